"""What changed between two deployed versions of a definition, element by element.

A process owner deciding whether running instances may move to a new version, or reviewing what a
colleague deployed, wants the changes that alter how work runs: an element added or removed, a
name, a condition, a script, a timer, a form (its name or the form file's content), a lane's rule,
an approval policy, where a flow goes. Layout (``bpmndi``) and the order of elements in the file
are not changes. Elements are matched by id, the identity a diagram's instances hold on to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from . import xmlguard
from .policy import BPMN_NS, SPIFF_NS

# The containers whose children are a diagram's elements (flow nodes, flows, lanes, pools).
_CONTAINERS = {
    "process",
    "subProcess",
    "transaction",
    "adHocSubProcess",
    "laneSet",
    "childLaneSet",
    "collaboration",
}
_SKIP = {
    "laneSet",
    "childLaneSet",
    "textAnnotation",
    "association",
    "group",
    "dataObject",
    "dataStoreReference",
}
_TIMER_PARTS = ("timeDate", "timeDuration", "timeCycle")
FORM = "property:formJsonSchemaFilename"


@dataclass(frozen=True)
class ElementSummary:
    """One element of a version: its id, BPMN type (local name), name, and what matters to how it runs."""

    id: str
    type: str
    name: str
    props: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PropertyChange:
    property: str  # "name", "condition", "script", "timer", "lane", "property:<name>", "form content", …
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ElementChange:
    id: str
    type: str
    name: str
    changes: list[PropertyChange]


@dataclass(frozen=True)
class DefinitionDiff:
    key: str
    from_version: int
    to_version: int
    added: list[ElementSummary]
    removed: list[ElementSummary]
    changed: list[ElementChange]
    files_added: list[str]
    files_removed: list[str]
    files_changed: list[str]  # forms and decision tables whose content differs
    # every element of each version, to describe an unnamed one (a flow by its ends) or a reference
    before: dict[str, ElementSummary] = field(default_factory=dict)
    after: dict[str, ElementSummary] = field(default_factory=dict)


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _text(element: etree._Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return element.find(f"{{{BPMN_NS}}}{name}")


def _extension_values(element: etree._Element, props: dict[str, str]) -> None:
    """Jiebang's properties and SpiffWorkflow's extension elements (decision, pre/post scripts, instructions)."""
    ext = _child(element, "extensionElements")
    if ext is None:
        return
    for child in ext:
        local = _local(child.tag)
        if local == "properties":
            for p in child.iter(f"{{{SPIFF_NS}}}property"):
                if p.get("name"):
                    props[f"property:{p.get('name')}"] = p.get("value") or ""
        elif local:
            value = _text(child) or " ".join(f"{k}={v}" for k, v in sorted(child.attrib.items()))
            if value:
                props[local] = value


def _summary(
    element: etree._Element, lanes: Mapping[str, str], messages: Mapping[str, str]
) -> ElementSummary:
    props: dict[str, str] = {}

    def put(key: str, value: str | None) -> None:
        if value:
            props[key] = value

    for attr in ("default", "sourceRef", "targetRef", "calledElement", "attachedToRef", "processRef"):
        put(attr, element.get(attr))
    if element.get("cancelActivity") == "false":
        props["interrupting"] = "false"
    put("condition", _text(_child(element, "conditionExpression")))
    script = _child(element, "script")
    put("script", (script.text or "").strip() if script is not None else "")
    put("lane", lanes.get(element.get("id", "")))
    for definition in element:
        kind = _local(definition.tag)
        if not kind.endswith("EventDefinition"):
            continue
        put("event", kind.removesuffix("EventDefinition"))
        if kind == "timerEventDefinition":
            put(
                "timer",
                " ".join(
                    _text(_child(definition, p)) for p in _TIMER_PARTS if _child(definition, p) is not None
                ),
            )
        ref = definition.get("messageRef") or definition.get("errorRef") or definition.get("signalRef")
        put("message", messages.get(ref or "", ref))
    loop = _child(element, "multiInstanceLoopCharacteristics")
    if loop is not None:
        parts = [
            "sequential" if loop.get("isSequential") == "true" else "parallel",
            _text(_child(loop, "loopCardinality")),
            _text(_child(loop, "loopDataInputRef")),
            _text(_child(loop, "completionCondition")),
        ]
        props["multiInstance"] = " ".join(p for p in parts if p)
    elif _child(element, "standardLoopCharacteristics") is not None:
        props["loop"] = (
            _text(_child(_child(element, "standardLoopCharacteristics"), "loopCondition")) or "loop"
        )
    _extension_values(element, props)
    return ElementSummary(
        element.get("id", ""), _local(element.tag), (element.get("name") or "").strip(), props
    )


def summarise(files: Mapping[str, str]) -> dict[str, ElementSummary]:
    """Element id -> summary over a version's diagrams."""
    out: dict[str, ElementSummary] = {}
    for name, text in sorted(files.items()):
        if not name.lower().endswith(".bpmn"):
            continue
        root = etree.fromstring(text.encode("utf-8"), xmlguard.safe_parser())
        messages = {m.get("id"): m.get("name") or m.get("id") for m in root.iter(f"{{{BPMN_NS}}}message")}
        lanes = {
            _text(ref): lane.get("name") or lane.get("id")
            for lane in root.iter(f"{{{BPMN_NS}}}lane")
            for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef")
        }
        for element in root.iter(f"{{{BPMN_NS}}}*"):
            local = _local(element.tag)
            parent = element.getparent()
            container = element if local == "process" else parent
            if not element.get("id") or local in _SKIP or container is None:
                continue
            if local != "process" and _local(container.tag) not in _CONTAINERS:
                continue
            out[element.get("id")] = _summary(element, lanes, messages)
    return out


def _digest(content: object) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def diff_versions(
    key: str,
    from_version: int,
    old: Mapping[str, str],
    to_version: int,
    new: Mapping[str, str],
    *,
    old_forms: Mapping[str, object] | None = None,
    new_forms: Mapping[str, object] | None = None,
) -> DefinitionDiff:
    """Compare two versions: their files (name -> text) and the forms their tasks use (name ->
    JSON Schema, as deployed with each version). An element whose form's content changed is changed
    too (``form content``), since its task asks for other data now."""
    before, after = summarise(old), summarise(new)
    old_all = {
        **{n: _digest(t) for n, t in old.items()},
        **{n: _digest(f) for n, f in (old_forms or {}).items()},
    }
    new_all = {
        **{n: _digest(t) for n, t in new.items()},
        **{n: _digest(f) for n, f in (new_forms or {}).items()},
    }
    changed_files = sorted(
        n for n in set(old_all) & set(new_all) if old_all[n] != new_all[n] and not n.lower().endswith(".bpmn")
    )
    changed_forms = {n for n in changed_files if n.endswith(".json")}
    changed: list[ElementChange] = []
    for element_id in sorted(set(before) & set(after)):
        a, b = before[element_id], after[element_id]
        changes = []
        if a.type != b.type:
            changes.append(PropertyChange("type", a.type, b.type))
        if a.name != b.name:
            changes.append(PropertyChange("name", a.name or None, b.name or None))
        for prop in sorted(set(a.props) | set(b.props)):
            if a.props.get(prop) != b.props.get(prop):
                changes.append(PropertyChange(prop, a.props.get(prop), b.props.get(prop)))
        form = b.props.get(FORM)
        if form and form in changed_forms and form == a.props.get(FORM):
            changes.append(PropertyChange("form content", form, form))
        if changes:
            changed.append(ElementChange(b.id, b.type, b.name, changes))
    return DefinitionDiff(
        key,
        from_version,
        to_version,
        added=[after[i] for i in sorted(set(after) - set(before))],
        removed=[before[i] for i in sorted(set(before) - set(after))],
        changed=changed,
        files_added=sorted(set(new_all) - set(old_all)),
        files_removed=sorted(set(old_all) - set(new_all)),
        files_changed=changed_files,
        before=before,
        after=after,
    )
