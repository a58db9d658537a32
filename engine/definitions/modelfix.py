"""XML rewrites that turn what other modelers export into what SpiffWorkflow 3.2 runs.

BPMN allows constructs Spiff 3.2 rejects (implicit splits, JUEL/FEEL conditions, bare ISO
timer literals, data stores without an implementation...). Each pass here either rewrites
the construct into an equivalent Spiff accepts, or records a `Problem` naming the element
and what to do. Used by `engine.definitions.modelcheck`; nothing here parses with Spiff.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine import durations
from engine.errors import Problem

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "spiffworkflow": SPIFF}

ACTIVITIES = {
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "subProcess",
    "transaction",
    "callActivity",
    "adHocSubProcess",
}
SPLIT_SOURCES = ACTIVITIES | {"intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
UNSUPPORTED = {
    "complexGateway": ("complex gateway", "复杂网关"),
    "choreography": ("choreography", "编排图"),
    "choreographyTask": ("choreography task", "编排任务"),
    "subChoreography": ("sub-choreography", "子编排"),
    "callChoreography": ("call choreography", "调用编排"),
    "compensateEventDefinition": ("compensation event", "补偿事件"),
    "implicitThrowEvent": ("implicit throw event", "隐式抛出事件"),
}
# Elements without execution semantics that nothing in Spiff reads; removed to keep parsing simple.
DECORATIVE = {"conversation", "subConversation", "callConversation", "conversationLink"}
PYTHON_LANGS = {"", "python", "python3", "py", "text/x-python", "text/python"}


def q(tag: str, ns: str = BPMN) -> str:
    return f"{{{ns}}}{tag}"


def local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


@dataclass
class Ctx:
    """One document being normalised: its tree, file name and what was found."""

    root: etree._Element
    name: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    def add(self, code: str, el: etree._Element | str | None, en: str, zh: str, note: bool = False) -> None:
        line = None
        if isinstance(el, etree._Element):
            line, el = el.sourceline, el.get("id")
        (self.notes if note else self.problems).append(Problem(el, code, en, zh, self.name, line))

    _taken: set[str] | None = field(default=None, repr=False)

    def ids(self) -> dict[str, etree._Element]:
        return {el.get("id"): el for el in self.root.iter() if isinstance(el.tag, str) and el.get("id")}

    def unique(self, base: str) -> str:
        """An id no element has (nor any id handed out before): one scan of the tree per document."""
        if self._taken is None:
            self._taken = set(self.ids())
        cand, n = base, 1
        while cand in self._taken:
            n += 1
            cand = f"{base}{n}"
        self._taken.add(cand)
        return cand


def owner(el: etree._Element) -> etree._Element:
    """The nearest flow node (or process) holding `el`, for pinning problems."""
    while el is not None and (
        not el.get("id")
        or local(el).endswith("EventDefinition")
        or local(el) in {"conditionExpression", "condition", "completionCondition"}
    ):
        el = el.getparent()
    return el


# ---------------------------------------------------------------- expressions

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"[^"\\]*"|'[^'\\]*')|(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z_0-9]*)
    |(?P<op>==|!=|<=|>=|&&|\|\||<|>|!|=|\(|\)))""",
    re.X,
)
_JUEL_WORDS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "and": "and",
    "or": "or",
    "not": "not",
    "true": "True",
    "false": "False",
    "null": "None",
}
_FEEL_WORDS = {"and": "and", "or": "or", "not": "not", "true": "True", "false": "False", "null": "None"}
_SAFE_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Name,
    ast.Load,
    ast.Constant,
)


def dialect(text: str, language: str | None) -> str:
    """Which expression language `text` is in: python, juel, feel, or the declared name."""
    lang = (language or "").strip().lower()
    body = text.strip()
    if "feel" in lang or body.startswith("="):
        return "feel"
    if re.fullmatch(r"[$#]\{.*\}", body, re.S) or lang in {"juel", "${}", "uel", "el"}:
        return "juel"
    if lang in PYTHON_LANGS:
        return "python"
    return lang


def translate(text: str, language: str | None = None) -> str | None:
    """Python equivalent of a simple JUEL/FEEL/Python condition, or None when it cannot be had."""
    kind, body = dialect(text, language), text.strip()
    if kind == "python":
        try:
            ast.parse(body, mode="eval")
        except SyntaxError:
            return None
        return body
    if kind == "juel":
        m = re.fullmatch(r"[$#]\{(.*)\}", body, re.S)
        body, words = (m.group(1) if m else body), _JUEL_WORDS
    elif kind == "feel":
        body, words = body[1:] if body.startswith("=") else body, _FEEL_WORDS
    else:
        return None
    out, pos = [], 0
    while pos < len(body.rstrip()):
        m = _TOKEN.match(body, pos)
        if not m or m.lastgroup is None:  # every alternative of _TOKEN is a named group
            return None
        pos = m.end()
        tok = m.group(m.lastgroup)
        if m.lastgroup == "name":
            tok = words.get(tok, tok)
        elif m.lastgroup == "op":
            tok = {"&&": "and", "||": "or", "!": "not", "=": "==" if kind == "feel" else "?"}.get(tok, tok)
        out.append(tok)
    py = " ".join(out)
    try:
        tree = ast.parse(py, mode="eval")
    except SyntaxError:
        return None
    return py if all(isinstance(n, _SAFE_NODES) for n in ast.walk(tree)) else None


def _fix_expression(ctx: Ctx, el: etree._Element, what: tuple[str, str]) -> None:
    text = el.text or ""
    lang = el.get("language")
    py = translate(text, lang)
    holder = owner(el)
    if py is None:
        hid = holder.get("id") if holder is not None else None
        ctx.add(
            "unsupported-expression-language",
            holder,
            f"{what[0]} of '{hid}' is {dialect(text, lang).upper() or 'an unknown language'} that cannot be "
            f"translated to Python: {text.strip()!r}. Rewrite it as a Python expression.",
            f"'{hid}' 的{what[1]}使用了无法自动转换为 Python 的表达式语言：{text.strip()!r}。"
            "请改写为 Python 表达式。",
        )
        return
    if py != text.strip():
        el.text = py
        ctx.add(
            "translated-expression",
            holder,
            f"Condition {text.strip()!r} translated to {py!r}.",
            f"条件 {text.strip()!r} 已转换为 {py!r}。",
            note=True,
        )
    if "language" in el.attrib:
        del el.attrib["language"]


def fix_expressions(ctx: Ctx) -> None:
    """JUEL `${}` / FEEL `=` conditions become Python; the rest is reported per element."""
    for el in list(ctx.root.iter(q("conditionExpression"))):
        if not (el.text or "").strip():
            el.getparent().remove(el)  # empty condition == no condition (Spiff would crash on None)
    kinds = [
        ("conditionExpression", ("Condition", "条件")),
        ("condition", ("Event condition", "事件条件")),
        ("completionCondition", ("Completion condition", "完成条件")),
        ("loopCondition", ("Loop condition", "循环条件")),
        ("loopCardinality", ("Loop cardinality", "循环次数")),
    ]
    for tag, what in kinds:
        for el in ctx.root.iter(q(tag)):
            if (el.text or "").strip():
                _fix_expression(ctx, el, what)


# ---------------------------------------------------------------- timers, scripts, elements


def _string_literal(text: str) -> str | None:
    """The string a Python string literal such as ``"P14D"`` spells, or None for anything else."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, str) else None


def _constant(py: str) -> bool:
    """Whether a Python expression reads no variable (``9999-99-99``): its value is fixed at deploy."""
    return not any(
        isinstance(n, ast.Name | ast.Call | ast.Attribute | ast.Subscript)
        for n in ast.walk(ast.parse(py, mode="eval"))
    )


def fix_timers(ctx: Ctx) -> None:
    """Spiff evaluates timer bodies as Python: check and quote ISO literals, report what is not an expression."""
    for ted in ctx.root.iter(q("timerEventDefinition")):
        event = owner(ted)
        bodies = [
            c for c in ted if local(c) in {"timeDate", "timeDuration", "timeCycle"} and (c.text or "").strip()
        ]
        if not bodies:
            ctx.add(
                "unsupported-timer",
                event,
                f"Timer event '{event.get('id')}' has no timeDate, timeDuration or timeCycle value; "
                "it is descriptive only. Give it an ISO 8601 value such as P14D.",
                f"定时事件 '{event.get('id')}' 没有 timeDate、timeDuration 或 timeCycle 值（仅为描述性）。"
                "请填写 ISO 8601 值，例如 P14D。",
            )
            continue
        body = bodies[0]
        text = body.text.strip()
        literal = _string_literal(text)
        if literal is not None or durations.looks_iso(text):
            value = (text if literal is None else literal).strip()
            reason = durations.timer_problem(local(body), value)
            if reason:
                _invalid_timer(ctx, event, local(body), value, reason)
            else:
                body.text = json.dumps(value)
            body.attrib.pop("language", None)
            continue
        py = translate(text, body.get("language"))
        if py is None:
            ctx.add(
                "unsupported-timer",
                event,
                f"Timer event '{event.get('id')}' has {local(body)} {text!r}, which is neither an ISO 8601 "
                "literal nor a Python expression (cron is not supported). Use ISO 8601, e.g. R3/PT1H.",
                f"定时事件 '{event.get('id')}' 的 {local(body)} 值 {text!r} 既不是 ISO 8601 字面量也不是 "
                "Python 表达式（不支持 cron）。请使用 ISO 8601，例如 R3/PT1H。",
            )
        elif _constant(py):
            _invalid_timer(ctx, event, local(body), text, "is a constant expression, not an ISO 8601 value")
        else:
            body.text = py
        body.attrib.pop("language", None)


def _invalid_timer(ctx: Ctx, event: etree._Element, kind: str, value: str, reason: str) -> None:
    ctx.add(
        "invalid-timer",
        event,
        f"Timer event '{event.get('id')}' has {kind} {value!r}, which {reason}.",
        f"定时事件 '{event.get('id')}' 的 {kind} 值 {value!r} 无效（{reason}）。请使用有效的 ISO 8601 值，例如 P14D。",
    )


def check_scripts(ctx: Ctx) -> None:
    for task in ctx.root.iter(q("scriptTask")):
        fmt = (task.get("scriptFormat") or "").strip().lower()
        if fmt not in PYTHON_LANGS:
            ctx.add(
                "unsupported-script-language",
                task,
                f"Script task '{task.get('id')}' is written in {fmt!r}; only Python scripts run. "
                "Rewrite the script in Python.",
                f"脚本任务 '{task.get('id')}' 使用 {fmt!r} 编写；只支持 Python 脚本。请用 Python 重写。",
            )
        elif task.find(q("script")) is None or not (task.findtext(q("script")) or "").strip():
            ctx.add(
                "missing-script",
                task,
                f"Script task '{task.get('id')}' has no script. Add a Python script or make it a plain task.",
                f"脚本任务 '{task.get('id')}' 没有脚本。请添加 Python 脚本或改为普通任务。",
            )


def check_service_tasks(ctx: Ctx) -> None:
    """Spiff runs a service task only through a registered operator; other modelers name a class or topic."""
    for task in ctx.root.iter(q("serviceTask")):
        if task.find(f"{q('extensionElements')}/{q('serviceTaskOperator', SPIFF)}") is None:
            attrs = {etree.QName(k).localname: v for k, v in task.attrib.items()}
            impl = next(
                (
                    f"{k}={attrs[k]}"
                    for k in ("topic", "class", "delegateExpression", "expression", "type", "implementation")
                    if attrs.get(k)
                ),
                "",
            )
            ctx.add(
                "unsupported-service-task",
                task,
                f"Service task '{task.get('id')}' has no spiffworkflow:serviceTaskOperator ({impl or 'no implementation'}"
                "); this engine calls only registered services. Add an operator, or make it a user or script task.",
                f"服务任务 '{task.get('id')}' 没有 spiffworkflow:serviceTaskOperator（{impl or '无实现'}）；"
                "本引擎只调用已注册的服务。请添加 operator，或改为用户任务或脚本任务。",
            )


def check_unsupported(ctx: Ctx) -> None:
    """One problem per element Spiff 3.2 cannot execute; drop decorative conversation elements."""
    for el in list(ctx.root.iter()):
        name = local(el)
        if name in DECORATIVE:
            el.getparent().remove(el)
        elif name in UNSUPPORTED:
            en, zh = UNSUPPORTED[name]
            target = owner(el) if name.endswith("EventDefinition") else el
            tid = target.get("id")
            ctx.add(
                "unsupported-element",
                target,
                f"Element '{tid}' is a {en}, which this engine cannot execute. Remodel it with supported elements.",
                f"元素 '{tid}' 是{zh}，本引擎无法执行。请改用受支持的元素建模。",
            )


def fix_link_events(ctx: Ctx) -> None:
    """Link throw/catch pairs are just a drawn-apart sequence flow: connect them directly."""
    for scope in ctx.root.iter(q("process"), q("subProcess"), q("transaction")):
        catches: dict[str | None, Any] = {}
        throws: list[tuple[str | None, Any]] = []
        for ev in scope:
            link = ev.find(q("linkEventDefinition"))
            if link is None:
                continue
            key = link.get("name") or ev.get("name")
            (
                catches.__setitem__(key, ev)
                if local(ev) == "intermediateCatchEvent"
                else throws.append((key, ev))
            )
        for key, ev in throws:
            target = catches.get(key)
            if target is None:
                ctx.add(
                    "unsupported-element",
                    ev,
                    f"Link event '{ev.get('id')}' has no matching link catch event "
                    f"named {key!r}. Add one or draw the sequence flow.",
                    f"链接事件 '{ev.get('id')}' 没有名为 {key!r} 的对应捕获事件。请添加或直接连线。",
                )
                continue
            ev.remove(ev.find(q("linkEventDefinition")))
            fid = ctx.unique(f"{ev.get('id')}__link")
            etree.SubElement(ev, q("outgoing")).text = fid
            scope.insert(
                scope.index(ev) + 1,
                etree.Element(q("sequenceFlow"), id=fid, sourceRef=ev.get("id"), targetRef=target.get("id")),
            )
        for target in catches.values():
            target.remove(target.find(q("linkEventDefinition")))
            target.tag = q("intermediateThrowEvent")  # a none throw event passes straight through


def fix_executable(ctx: Ctx) -> None:
    """Modeler exports often say isExecutable="false" everywhere; then run what has a start event."""
    procs = ctx.root.findall(q("process"))
    if not procs or any(p.get("isExecutable", "true") == "true" for p in procs):
        return
    for p in procs:
        if p.find(q("startEvent")) is not None:
            p.set("isExecutable", "true")
            ctx.add(
                "made-executable",
                p,
                f"Process '{p.get('id')}' was marked not executable; treated as executable.",
                f"流程 '{p.get('id')}' 被标记为不可执行；已按可执行处理。",
                note=True,
            )


def strip_data_stores(ctx: Ctx) -> None:
    """Data stores need an engine implementation Spiff lacks; they carry no flow semantics, so drop them."""
    ids = ctx.ids()
    stores = {i for i, el in ids.items() if local(el) == "dataStoreReference"}
    for el in list(ctx.root.iter(q("dataInputAssociation"), q("dataOutputAssociation"))):
        refs = [r.text for r in el if local(r) in {"sourceRef", "targetRef"}]
        parent = el.getparent()
        if any(r in stores for r in refs) or not _object_resolves(ids, parent, refs):
            parent.remove(el)
            ctx.add(
                "dropped-data-association",
                parent,
                "Data association to a data store or unresolvable data object ignored.",
                "已忽略指向数据存储或无法解析的数据对象的数据关联。",
                note=True,
            )
    for el in list(ctx.root.iter(q("dataStore"), q("dataStoreReference"))):
        el.getparent().remove(el)
    _drop_orphan_di(ctx)


def _object_resolves(ids: dict[str, Any], node: etree._Element, refs: list[str | None]) -> bool:
    """Spiff finds a data object only in the node's own scope or its parent's (deeper loops forever)."""
    for ref in refs:
        el = ids.get(ref) if ref else None
        if el is None or local(el) != "dataObjectReference":
            continue
        obj = ids.get(el.get("dataObjectRef") or "")
        if obj is None or local(obj) != "dataObject":
            return False
        scope = node.getparent()
        if obj.getparent() is not scope and obj.getparent() is not scope.getparent():
            return False
    return True


def _drop_orphan_di(ctx: Ctx) -> None:
    ids = ctx.ids()
    for di in list(ctx.root.iter(q("BPMNShape", BPMNDI), q("BPMNEdge", BPMNDI))):
        if di.get("bpmnElement") and di.get("bpmnElement") not in ids:
            di.getparent().remove(di)


def fix_decision_refs(ctx: Ctx) -> None:
    """Camunda's `camunda:decisionRef` is Spiff's `spiffworkflow:calledDecisionId`."""
    for task in ctx.root.iter(q("businessRuleTask")):
        ref = task.get(q("decisionRef", CAMUNDA))
        if ref and task.find(f"{q('extensionElements')}/{q('calledDecisionId', SPIFF)}") is None:
            ext = task.find(q("extensionElements"))
            if ext is None:
                ext = etree.Element(q("extensionElements"))
                task.insert(1 if len(task) and local(task[0]) == "documentation" else 0, ext)
            etree.SubElement(ext, q("calledDecisionId", SPIFF)).text = ref


# ---------------------------------------------------------------- gateways and implicit splits


def _outgoing_by_source(scope: etree._Element) -> dict[str, list[etree._Element]]:
    """The scope's sequence flows by source id, built once per scope (a lookup per node was quadratic)."""
    out: dict[str, list[etree._Element]] = {}
    for flow in scope.findall(q("sequenceFlow")):
        out.setdefault(flow.get("sourceRef"), []).append(flow)
    return out


def _has_condition(flow: etree._Element) -> bool:
    return flow.find(q("conditionExpression")) is not None


def _condition(flow: etree._Element, text: str) -> None:
    cond = etree.SubElement(flow, q("conditionExpression"))
    cond.set(q("type", XSI), "bpmn:tFormalExpression")
    cond.text = text


def fix_gateway_defaults(ctx: Ctx) -> None:
    """An exclusive gateway flow with no condition is its default if it is the only one; else ambiguous."""
    by_scope: dict[etree._Element, dict[str, list[etree._Element]]] = {}
    for gw in list(ctx.root.iter(q("exclusiveGateway"), q("inclusiveGateway"))):
        scope = gw.getparent()
        if scope not in by_scope:
            by_scope[scope] = _outgoing_by_source(scope)
        flows = by_scope[scope].get(gw.get("id"), [])
        if len(flows) < 2:
            continue
        bare = [f for f in flows if not _has_condition(f) and f.get("id") != gw.get("default")]
        if local(gw) == "inclusiveGateway":
            for f in bare:  # BPMN: an unconditional inclusive branch is always taken
                _condition(f, "True")
        elif len(bare) == 1 and not gw.get("default"):
            gw.set("default", bare[0].get("id"))
            ctx.add(
                "made-default",
                gw,
                f"Flow '{bare[0].get('id')}' has no condition; made it the default.",
                f"顺序流 '{bare[0].get('id')}' 没有条件；已设为默认流。",
                note=True,
            )
        else:
            for f in bare:
                ctx.add(
                    "ambiguous-flow",
                    f,
                    f"Sequence flow '{f.get('id')}' leaves exclusive gateway '{gw.get('id')}' with no condition "
                    "and is not its default flow. Add a condition, or make it the gateway's default.",
                    f"顺序流 '{f.get('id')}' 从排他网关 '{gw.get('id')}' 流出，既没有条件也不是默认流。"
                    "请添加条件，或将其设为网关的默认流。",
                )


def split_implicit(ctx: Ctx) -> None:
    """Spiff rejects several outgoing flows on an activity/event; BPMN means a split, so make it explicit."""
    index = _DiagramIndex(ctx.root)
    for scope in list(ctx.root.iter(q("process"), q("subProcess"), q("transaction"), q("adHocSubProcess"))):
        outgoing = _outgoing_by_source(scope)
        for node in list(scope):
            if local(node) not in SPLIT_SOURCES:
                continue
            flows = outgoing.get(node.get("id"), [])
            conditional = any(_has_condition(f) for f in flows)
            if len(flows) > 1 or conditional:
                _insert_split(ctx, index, scope, node, flows, conditional)


class _DiagramIndex:
    """Lane references and diagram shapes/edges by element id, read once per pass, not once per split."""

    def __init__(self, root: etree._Element) -> None:
        self.lane_refs: dict[str, list[etree._Element]] = {}
        for ref in root.iter(q("flowNodeRef")):
            self.lane_refs.setdefault((ref.text or "").strip(), []).append(ref)
        self.shapes = {s.get("bpmnElement"): s for s in reversed(list(root.iter(q("BPMNShape", BPMNDI))))}
        self.edges: dict[str, list[etree._Element]] = {}
        for edge in root.iter(q("BPMNEdge", BPMNDI)):
            self.edges.setdefault(edge.get("bpmnElement"), []).append(edge)


def _insert_split(
    ctx: Ctx,
    index: _DiagramIndex,
    scope: etree._Element,
    src: etree._Element,
    flows: list[etree._Element],
    conditional: bool,
) -> None:
    sid = src.get("id")
    default = src.attrib.pop("default", None)
    kind = "inclusiveGateway" if conditional or default else "parallelGateway"
    gid, fid = ctx.unique(f"{sid}__split"), ctx.unique(f"{sid}__split_flow")
    gw = etree.Element(q(kind), id=gid, gatewayDirection="Diverging")
    etree.SubElement(gw, q("incoming")).text = fid
    for f in flows:
        f.set("sourceRef", gid)
        etree.SubElement(gw, q("outgoing")).text = f.get("id")
        if kind == "inclusiveGateway" and not _has_condition(f) and f.get("id") != default:
            _condition(f, "True")
    if default:
        gw.set("default", default)
    old = src.findall(q("outgoing"))
    if old:
        old[0].addprevious(etree.Element(q("outgoing")))
        old[0].getprevious().text = fid
        for o in old:
            src.remove(o)
    idx = scope.index(src)
    scope.insert(idx + 1, gw)
    scope.insert(idx + 2, etree.Element(q("sequenceFlow"), id=fid, sourceRef=sid, targetRef=gid))
    for ref in index.lane_refs.get(sid, []):
        ref.addnext(etree.Element(q("flowNodeRef")))
        ref.getnext().text = gid
    _split_di(ctx, index, sid, gid, fid, [f.get("id") for f in flows])
    what = (
        ("an inclusive gateway", "包容网关") if conditional or default else ("a parallel gateway", "并行网关")
    )
    ctx.add(
        "implicit-split",
        src,
        f"'{sid}' has {len(flows)} outgoing flows without a gateway; inserted {what[0]} '{gid}'.",
        f"'{sid}' 有 {len(flows)} 条未经网关的流出顺序流；已插入{what[1]} '{gid}'。",
        note=True,
    )


def _split_di(ctx: Ctx, index: _DiagramIndex, sid: str, gid: str, fid: str, flow_ids: list[str]) -> None:
    """Give the new gateway a shape just right of its source, and re-root the moved edges on it."""
    shape = index.shapes.get(sid)
    bounds = shape.find(q("Bounds", DC)) if shape is not None else None
    if shape is None or bounds is None:
        return
    x, y, w, h = (float(bounds.get(k, 0)) for k in ("x", "y", "width", "height"))
    size = 30.0
    gx, gy = x + w + 10, y + h / 2 - size / 2
    gshape = etree.Element(q("BPMNShape", BPMNDI), id=ctx.unique(f"{gid}_di"), bpmnElement=gid)
    etree.SubElement(gshape, q("Bounds", DC), x=f"{gx:g}", y=f"{gy:g}", width=f"{size:g}", height=f"{size:g}")
    shape.addnext(gshape)
    edge = etree.Element(q("BPMNEdge", BPMNDI), id=ctx.unique(f"{fid}_di"), bpmnElement=fid)
    etree.SubElement(edge, q("waypoint", DI), x=f"{x + w:g}", y=f"{y + h / 2:g}")
    etree.SubElement(edge, q("waypoint", DI), x=f"{gx:g}", y=f"{y + h / 2:g}")
    gshape.addnext(edge)
    for e in (edge for f in flow_ids for edge in index.edges.get(f, [])):
        wp = e.find(q("waypoint", DI))
        if wp is None:
            continue
        wx, wy = float(wp.get("x", 0)), float(wp.get("y", 0))
        cx = gx + size / 2
        px, py = (cx, gy) if wy <= y else (cx, gy + size) if wy >= y + h else (gx + size, gy + size / 2)
        wp.set("x", f"{px:g}")
        wp.set("y", f"{py:g}")
        nxt = wp.getnext()
        if nxt is not None and local(nxt) == "waypoint":  # keep the first segment orthogonal
            if float(nxt.get("x", 0)) == wx:
                nxt.set("x", f"{px:g}")
            elif float(nxt.get("y", 0)) == wy:
                nxt.set("y", f"{py:g}")


PASSES = (
    fix_executable,
    check_unsupported,
    fix_link_events,
    strip_data_stores,
    fix_decision_refs,
    check_scripts,
    check_service_tasks,
    fix_timers,
    fix_expressions,
    fix_gateway_defaults,
    split_implicit,
)
