"""A deployment checked and normalised, before any database sees it: what ``jiebang validate`` and
deploy share. Kept apart from the catalog (SQLAlchemy, the parsed-spec cache) so checking a diagram
loads only lxml, SpiffWorkflow's parser and the form checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from .. import ownership
from ..errors import DefinitionInvalidError, InvalidInputError, Problem
from ..payload import strict_json_loads
from . import modelcheck, patterns, policy, xmlguard

__all__ = ["MAX_FILE_BYTES", "Prepared", "prepare", "shipped_form", "validate", "validate_definition"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
MAX_FILE_BYTES = 5_000_000


@dataclass(frozen=True)
class Prepared:
    key: str
    name: str
    files: dict[str, str]
    forms: dict[str, dict[str, Any]]
    lanes: dict[str, str]
    digest: str
    properties: dict[str, str] = field(default_factory=dict)


def validate(files: Mapping[str, bytes], forms_dirs: Sequence[Path] = ()) -> list[Problem]:
    """Every problem deploying ``files`` would report, without storing anything."""
    try:
        prepare(files, forms_dirs)
    except DefinitionInvalidError as exc:
        return exc.problems
    return []


def validate_definition(files: Mapping[str, bytes]) -> list[Problem]:
    """What ``Engine.validate`` answers, without an Engine: forms resolve against the shipped ones.

    Checking needs no database, so ``jiebang validate`` runs this and opens none.
    """
    import forms

    return validate(files, [Path(forms.__file__).parent])


def prepare(files: Mapping[str, bytes], forms_dirs: Sequence[Path] = ()) -> Prepared:
    """Check and normalise a deployment; raises DefinitionInvalidError listing every problem."""
    if not files:
        raise DefinitionInvalidError(
            "no files", [Problem(None, "no-files", "No diagram file was sent", "未上传流程文件")]
        )
    diagrams: dict[str, bytes] = {}
    form_files: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for name, data in files.items():
        lower = name.lower()
        if lower.endswith((".bpmn", ".dmn", ".xml")):
            xmlguard.check_xml(data, name=name, max_bytes=MAX_FILE_BYTES)
            diagrams[name if not lower.endswith(".xml") else name[:-4] + ".bpmn"] = data
        elif lower.endswith(".json"):
            try:
                schema = strict_json_loads(data)
            except (ValueError, InvalidInputError) as exc:
                problems.append(
                    Problem(
                        None,
                        "form-not-json",
                        f"{name}: not JSON ({exc})",
                        f"{name}：不是合法的 JSON",
                        name,
                    )
                )
                continue
            from . import forms as formlib  # jsonschema: only when a form file is sent (a tenth of a second)

            reason = formlib.check_schema(schema) if isinstance(schema, dict) else "not an object"
            if reason:
                problems.append(
                    Problem(None, "form-invalid", f"{name}: {reason}", f"{name}：表单定义无效", name)
                )
            form_files[name.rsplit("/", 1)[-1]] = schema
        else:
            problems.append(
                Problem(
                    None,
                    "unknown-file",
                    f"{name}: only .bpmn, .dmn and .json files",
                    f"{name}：仅支持 .bpmn、.dmn 和 .json 文件",
                    name,
                )
            )
    bpmn_names = [n for n in diagrams if n.lower().endswith(".bpmn")]
    if not bpmn_names:
        problems.append(Problem(None, "no-bpmn", "No .bpmn file among the files", "未包含 .bpmn 文件"))
        raise DefinitionInvalidError(problems=problems)
    normalised, check_problems = modelcheck.validate(diagrams)
    problems.extend(check_problems)
    key = None
    for name in bpmn_names:
        ids = modelcheck.process_ids(normalised[name])
        if ids:
            key = ids[0]
            break
    if key is None:
        problems.append(
            Problem(None, "no-process", "No executable process in the diagram", "图中没有可执行的流程")
        )
    used_forms: dict[str, dict[str, Any]] = {}
    for name in bpmn_names:
        declared = policy.diagram_policies(etree.fromstring(normalised[name], xmlguard.safe_parser()))
        for element_id, element in declared.items():
            if element.form:
                schema = form_files.get(element.form) or shipped_form(element.form, forms_dirs)
                if schema is None:
                    problems.append(
                        Problem(
                            element_id,
                            "form-missing",
                            f"Form '{element.form}' was not sent and is not shipped",
                            f"表单 '{element.form}' 未上传，系统中也不存在",
                            name,
                        )
                    )
                else:
                    used_forms[element.form] = schema
                    problems += ownership.declaration_problems(
                        element_id,
                        ownership.declared_names(schema),
                        source=f"form '{element.form}'",
                        file=name,
                    )
            if element.start_variables:
                problems += ownership.declaration_problems(
                    element_id, element.start_variables, source=policy.START_VARIABLES, file=name
                )
    problems.extend(_pattern_problems({**form_files, **used_forms}))
    if problems or key is None:  # no key is a problem listed above
        raise DefinitionInvalidError(problems=problems)
    name_attr = _process_name(normalised[bpmn_names[0]], key) or key
    stored_files = {n: d.decode("utf-8") for n, d in sorted(diagrams.items())}
    digest = hashlib.sha256(
        json.dumps({"files": stored_files, "forms": used_forms}, sort_keys=True).encode()
    ).hexdigest()
    props = _process_properties(normalised[bpmn_names[0]], key)
    return Prepared(
        key,
        name_attr,
        stored_files,
        used_forms,
        _lane_rules(normalised[bpmn_names[0]], key),
        digest,
        props,
    )


def shipped_form(name: str, forms_dirs: Sequence[Path]) -> dict[str, Any] | None:
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    for folder in forms_dirs:
        path = folder / name
        if path.is_file():
            return json.loads(path.read_text("utf-8"))
    return None


def _pattern_problems(form_schemas: Mapping[str, Any]) -> list[Problem]:
    """Every form pattern a backtracking engine (the browser's) could spend exponential time on."""
    out = []
    for form_name, schema in sorted(form_schemas.items()):
        for field_path, pattern, reason in patterns.schema_pattern_problems(schema):
            out.append(
                Problem(
                    None,
                    "form-pattern-unsafe",
                    f"Form '{form_name}', field '{field_path}': pattern '{pattern}' {reason}. Rewrite it so no repeated part varies in length.",
                    f"表单 '{form_name}' 的字段 '{field_path}'：正则表达式 '{pattern}' 存在嵌套或重叠的量词，可能导致指数级回溯。请改写。",
                    form_name,
                )
            )
    return out


def _process_element(xml: bytes, key: str | None) -> etree._Element | None:
    root = etree.fromstring(xml, xmlguard.safe_parser())
    for proc in root.iter(f"{{{BPMN_NS}}}process"):
        if proc.get("id") == key:
            return proc
    return None


def _process_name(xml: bytes, key: str | None) -> str | None:
    proc = _process_element(xml, key)
    return proc.get("name") if proc is not None else None


def _process_properties(xml: bytes, key: str | None) -> dict[str, str]:
    """The process element's own ``spiffworkflow:property`` values (not its tasks')."""
    proc = _process_element(xml, key)
    return policy.element_properties(proc) if proc is not None else {}


def _lane_rules(xml: bytes, key: str | None) -> dict[str, str]:
    """Lane -> assignment rule from process properties ``lane:NAME``; default: the lane's group."""
    proc = _process_element(xml, key)
    rules: dict[str, str] = {}
    if proc is None:
        return rules
    for lane in proc.iter(f"{{{BPMN_NS}}}lane"):
        if lane.get("name"):
            rules[lane.get("name")] = f"group:{lane.get('name').lower()}"
    rules.update(policy.process_policy(_process_properties(xml, key)).lanes)
    return rules
