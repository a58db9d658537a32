"""Accept diagrams from any modeler: rewrite what SpiffWorkflow 3.2 rejects, report the rest.

Raw Spiff 3.2 parses few real-world exports (implicit splits, JUEL/FEEL conditions, bare ISO
timers, data stores...) and sometimes fails with its own TypeError. `normalise` rewrites one
.bpmn file into an equivalent Spiff accepts (see `engine.definitions.modelfix`) and lists what cannot be
supported; `validate` then parses a whole upload with Spiff and turns every failure, including
Spiff's internal ones, into `Problem`s pinned to element ids, in English and Chinese.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Mapping

from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser, SpiffProcessParser

from engine.definitions import modelfix, modelrules, policy
from engine.definitions.modelfix import BPMN, NS, Ctx, q
from engine.definitions.xmlguard import safe_parser
from engine.errors import Problem

__all__ = ["normalise", "normalise_with_notes", "validate", "referenced_forms", "process_ids", "spiff_parser"]


def _parser() -> etree.XMLParser:
    """The hostile-XML guard's parser: no entities, no network, no DTD, no huge trees."""
    return safe_parser()


def _problem(
    code: str, element_id: str | None, en: str, zh: str, file: str | None, line: int | None = None
) -> Problem:
    return Problem(element_id, code, en, zh, file, line)


def _parse(xml: bytes, name: str) -> tuple[etree._Element | None, list[Problem]]:
    try:
        root = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        return None, [
            _problem(
                "xml-malformed",
                None,
                f"The file is not well-formed XML: {exc.msg}.",
                f"文件不是格式正确的 XML：{exc.msg}。",
                name,
                line,
            )
        ]
    except (ValueError, TypeError) as exc:
        return None, [
            _problem(
                "xml-malformed",
                None,
                f"The file cannot be read as XML: {exc}.",
                f"无法按 XML 读取该文件：{exc}。",
                name,
            )
        ]
    return root, []


def normalise_with_notes(xml: bytes, *, name: str) -> tuple[bytes, list[Problem], list[Problem]]:
    """`normalise`, plus informational notes saying which rewrites were made (codes like `implicit-split`)."""
    root, problems = _parse(xml, name)
    if root is None:
        return xml, problems, []
    if etree.QName(root).namespace != BPMN or etree.QName(root).localname != "definitions":
        return (
            xml,
            [
                _problem(
                    "not-bpmn",
                    None,
                    "The root element is not a BPMN 2.0 <definitions>.",
                    "根元素不是 BPMN 2.0 的 <definitions>。",
                    name,
                    root.sourceline,
                )
            ],
            [],
        )
    if root.getroottree().docinfo.internalDTD is not None:  # entities could expand wherever the XML goes next
        return (
            xml,
            [
                _problem(
                    "xml-dtd",
                    None,
                    "The file declares a DTD (<!DOCTYPE ...>); BPMN files must not.",
                    "文件声明了 DTD（<!DOCTYPE ...>）；BPMN 文件不允许包含 DTD。",
                    name,
                    1,
                )
            ],
            [],
        )
    ctx = Ctx(root, name)
    for fix in (*modelfix.PASSES, *modelrules.CHECKS):
        try:
            fix(ctx)
        except Exception as exc:  # a rewrite must never turn into a traceback for the user
            ctx.add(
                "normalise-failed",
                None,
                f"Could not apply {fix.__name__}: {exc!r}.",
                f"无法执行 {fix.__name__}：{exc!r}。",
            )
    if not _executable(root):
        ctx.add(
            "no-executable-process",
            None,
            "The file has no process with a start event to execute.",
            "文件中没有带开始事件的可执行流程。",
        )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), ctx.problems, ctx.notes


def normalise(xml: bytes, *, name: str) -> tuple[bytes, list[Problem]]:
    """Rewrite constructs BPMN allows but Spiff 3.2 rejects; return the XML and what stays unsupported.

    Problems carry the id of the element at fault and its line in the *input* file. A file that is not
    well-formed comes back unchanged with one `xml-malformed` problem.
    """
    out, problems, _ = normalise_with_notes(xml, name=name)
    return out, problems


def _executable(root: etree._Element) -> list[str]:
    procs = root.findall(q("process"))
    ids = [p.get("id") for p in procs if p.get("isExecutable", "true") == "true"]
    if not ids:  # same fallback as modelfix.fix_executable, so raw and normalised files agree
        ids = [p.get("id") for p in procs if p.find(q("startEvent")) is not None]
    return ids


def process_ids(xml: bytes) -> list[str]:
    """Executable process ids in document order (processes with a start event if none is marked executable)."""
    root, _ = _parse(xml, "")
    return [] if root is None else _executable(root)


def referenced_forms(xml: bytes) -> dict[str, str]:
    """User task or start event id -> its `formJsonSchemaFilename` property, so the caller can check the files exist."""
    root, _ = _parse(xml, "")
    if root is None:
        return {}
    return {element_id: p.form for element_id, p in policy.diagram_policies(root).items() if p.form}


# ---------------------------------------------------------------- parsing with Spiff


class _PostOrderProcessParser(SpiffProcessParser):
    """Spiff's process parser, made safe for long chains.

    Spiff parses a flow node by recursively parsing its successors (two Python frames per element),
    so a chain of ~480 elements exhausted the recursion limit. Parsing the nodes first in post-order
    (successors before predecessors, found iteratively) means every recursive call finds its
    successor already parsed and returns at once; the specs Spiff builds are the same.
    """

    def add_tasks(self) -> None:  # Spiff's signature
        for node in self._post_order():
            if node.get("id") not in self.spec.task_specs:
                self.parse_node(node)
        return super().add_tasks()

    def _post_order(self) -> list[etree._Element]:
        order: list[etree._Element] = []
        seen: set[str] = set()
        stack = [(node, False) for node in reversed(self.xpath("./bpmn:startEvent"))]
        while stack:
            node, finished = stack.pop()
            if finished:
                order.append(node)
                continue
            if node.get("id") in seen:
                continue
            seen.add(node.get("id"))
            stack.append((node, True))
            stack.extend(
                (succ, False) for succ in self._successors(node.get("id")) if succ.get("id") not in seen
            )
        return order

    def _successors(self, node_id: str) -> list[etree._Element]:
        """Targets of the node's flows and of its boundary events' flows (boundary events parse with their task)."""
        sources = [node_id, *(b.get("id") for b in self.get_boundary_events(node_id))]
        targets = (
            self.get_node_by_id(f.get("targetRef"))
            for src in sources
            for f in self.get_outgoing_sequence_flows(src)
        )
        return [t for t in targets if t is not None]


class JiebangBpmnParser(SpiffBpmnParser):
    """SpiffWorkflow's parser with the post-order process parser; used for validation and for runs."""

    PROCESS_PARSER_CLASS = _PostOrderProcessParser


def spiff_parser() -> JiebangBpmnParser:
    """A parser validating against Spiff's BPMN schema, as ``SpiffBpmnParser(validator=VALIDATOR)``."""
    return JiebangBpmnParser(validator=VALIDATOR)


# ---------------------------------------------------------------- validation with Spiff

_schema_lock = threading.Lock()
_schema: etree.XMLSchema | None = None


def _xsd_problems(root: etree._Element, name: str, lines: dict[str, int | None]) -> list[Problem]:
    """All XSD errors (Spiff reports only the last), each pinned to the nearest element with an id."""
    global _schema
    from SpiffWorkflow.spiff.parser.process import SPIFF_XSD, BpmnValidator

    with _schema_lock:
        if _schema is None:
            _schema = BpmnValidator(imports={"spiffworkflow": SPIFF_XSD}).validator
        copy = etree.fromstring(etree.tostring(root), _parser())
        for expr in copy.xpath(
            ".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", namespaces=NS
        ):
            expr.tag = q("messagePath")  # bpmn-js writes this; Spiff's validator tolerates it the same way
        ok = _schema.validate(copy)
        errors = [] if ok else list(_schema.error_log)
    by_line = sorted(
        (el.sourceline or 0, el.get("id")) for el in copy.iter() if isinstance(el.tag, str) and el.get("id")
    )
    out = []
    for err in errors:
        eid = None
        for line, i in by_line:
            if line <= err.line:
                eid = i
        msg = err.message.replace(f"{{{BPMN}}}", "bpmn:")
        out.append(
            _problem(
                "xsd-invalid",
                eid,
                f"Not valid BPMN 2.0 (XSD): {msg}",
                f"不符合 BPMN 2.0 规范（XSD 校验）：{msg}",
                name,
                (lines.get(eid) if eid else None) or err.line,
            )
        )
    return out


def _pinpoint(exc: BaseException) -> str | None:
    """The id of the XML element Spiff was parsing when it failed, read from the traceback."""
    found = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        node = getattr(frame.f_locals.get("self"), "node", None)
        if isinstance(node, etree._Element) and node.get("id"):
            found = node.get("id")
    return found


def _spiff_problem(
    exc: BaseException,
    files: dict[str, dict[str, int | None]],
    fallback: tuple[str | None, str | None] = (None, None),
) -> Problem:
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    eid = getattr(exc, "id", None) or _pinpoint(exc) or fallback[1]
    fname = (
        getattr(exc, "file_name", None)
        or next((f for f, ids in files.items() if eid in ids), None)
        or fallback[0]
    )
    line = files.get(fname or "", {}).get(eid or "")
    msg = str(exc).rstrip(". ")
    internal = not isinstance(exc, ValidationException) or msg.startswith(
        ("TypeError(", "AttributeError(", "KeyError(", "IndexError(")
    )
    if internal:
        return _problem(
            "spiff-internal-error",
            eid,
            f"SpiffWorkflow failed on element '{eid}' with an internal error ({msg}); usually a "
            "reference to an undefined message, signal, error or escalation. Check its definition.",
            f"SpiffWorkflow 在处理元素 '{eid}' 时发生内部错误（{msg}）；通常是引用了未定义的消息、信号、"
            "错误或升级。请检查其定义。",
            fname,
            line,
        )
    tag = getattr(exc, "tag", "") or "element"
    return _problem(
        "spiff-invalid",
        eid,
        f"{tag} '{eid}': {msg}.",
        f"{tag} '{eid}' 未通过 SpiffWorkflow 校验：{msg}。",
        fname,
        line,
    )


_REFS = {"messageRef": "message", "signalRef": "signal", "errorRef": "error", "escalationRef": "escalation"}


def _unresolved_refs(
    trees: dict[str, etree._Element], lines: dict[str, dict[str, int | None]]
) -> list[Problem]:
    """Event definitions naming an undefined message/signal/error/escalation make Spiff 3.2 crash (TypeError)."""
    defined = {
        (etree.QName(el).localname, el.get("id"))
        for root in trees.values()
        for el in root.iter()
        if isinstance(el.tag, str) and etree.QName(el).localname in _REFS.values()
    }
    out = []
    for fname, root in trees.items():
        for el in root.iter():
            if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN:
                continue
            for attr, kind in _REFS.items():
                ref = el.get(attr)
                if ref and (kind, ref.split(":")[-1]) not in defined:
                    node = modelfix.owner(el)
                    nid = node.get("id") if node is not None else None
                    out.append(
                        _problem(
                            "unresolved-reference",
                            nid,
                            f"'{nid}' refers to {kind} '{ref}', which no file defines. Add a "
                            f'<bpmn:{kind} id="{ref}"> definition or fix the reference.',
                            f"'{nid}' 引用的 {kind} '{ref}' 在任何文件中都没有定义。请添加 "
                            f'<bpmn:{kind} id="{ref}"> 定义或修正引用。',
                            fname,
                            lines.get(fname, {}).get(nid or ""),
                        )
                    )
    return out


def validate(files: Mapping[str, bytes]) -> tuple[dict[str, bytes], list[Problem]]:
    """Normalise every .bpmn, check .dmn is well-formed, then parse all with Spiff as one deployment.

    Returns the rewritten files (DMN unchanged) and every problem found; an empty list means every
    executable process and its subprocesses built. Spiff itself only runs when no file has problems.
    """
    out: dict[str, bytes] = {}
    problems: list[Problem] = []
    trees: dict[str, etree._Element] = {}
    lines: dict[str, dict[str, int | None]] = {}
    for fname, data in files.items():
        original, errs = _parse(data, fname)
        if original is not None:
            lines[fname] = {
                el.get("id"): el.sourceline
                for el in original.iter()
                if isinstance(el.tag, str) and el.get("id")
            }
        if fname.lower().endswith(".dmn"):
            out[fname] = data
            problems += errs
            if original is not None:
                trees[fname] = original
            continue
        fixed, errs = normalise(data, name=fname)
        out[fname] = fixed
        problems += errs
        root, _ = _parse(fixed, fname)
        if root is not None and not errs:
            problems += _xsd_problems(root, fname, lines.get(fname, {}))
            trees[fname] = root
    problems += _unresolved_refs(trees, lines)
    if problems or not trees:
        return out, problems
    parser = spiff_parser()
    try:
        for fname, root in trees.items():
            if fname.lower().endswith(".dmn"):
                parser.add_dmn_xml(root, filename=fname)
            else:
                parser.add_bpmn_xml(root, filename=fname)
        for fname, root in trees.items():
            if fname.lower().endswith(".dmn"):
                continue
            for pid in _executable(root):
                try:
                    parser.get_spec(pid)
                    parser.get_subprocess_specs(pid)
                except Exception as exc:  # Spiff's own bugs included: never let a traceback out
                    problems.append(_spiff_problem(exc, lines, (fname, pid)))
    except Exception as exc:
        problems.append(_spiff_problem(exc, lines))
    return out, _dedupe(problems)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        if (p.element_id, p.code, p.message) not in seen:
            seen.add((p.element_id, p.code, p.message))
            out.append(p)
    return out
