"""Task and process policies: Jiebang's extension properties read once, every value checked at deploy."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from engine import Engine
from engine.definitions.policy import TaskPolicy
from engine.errors import DefinitionInvalidError

DATA = Path(__file__).parent.parent / "data" / "engine"
ENGINE_DIR = Path(__file__).parent.parent.parent / "engine"

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://jiebang.example/test">"""


def props(pairs: dict[str, str]) -> str:
    inner = "".join(f'<spiffworkflow:property name="{n}" value="{v}"/>' for n, v in pairs.items())
    return f"<bpmn:extensionElements><spiffworkflow:properties>{inner}</spiffworkflow:properties></bpmn:extensionElements>"


def diagram(task: dict[str, str], process: dict[str, str] | None = None) -> bytes:
    """One lane-less process: start, a user task 'review' holding ``task``'s properties, end."""
    return f"""{HEAD}<bpmn:process id="propped" isExecutable="true">{props(process) if process else ""}
<bpmn:startEvent id="s"/>
<bpmn:userTask id="review" name="审核 Review">{props(task)}</bpmn:userTask>
<bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/><bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="e"/>
</bpmn:process></bpmn:definitions>""".encode()


REFUSED = [
    ({"approvalMode": "al", "approvers": "signers"}, None, "review", "approvalMode"),
    ({"approvalMode": "ratio:abc", "approvers": "signers"}, None, "review", "approvalMode"),
    ({"approvalMode": "ratio:0"}, None, "review", "approvalMode"),
    ({"approvalMode": "all", "approvers": "the signers"}, None, "review", "approvers"),
    ({"approvalMode": "all", "onReject": "ignore"}, None, "review", "onReject"),
    ({"approvalMode": "all", "rejectDecision": ""}, None, "review", "rejectDecision"),
    ({"rejectDecision": "fail"}, None, "review", "rejectDecision"),  # means nothing without approvalMode
    ({"timeoutAction": "approve"}, None, "review", "timeoutAction"),  # ... nor this without timeout
    ({"timeout": "P1W2D"}, None, "review", "timeout"),
    ({"dueIn": "P1.5D"}, None, "review", "dueIn"),
    ({"candidateGroups": " , "}, None, "review", "candidateGroups"),
    ({"ccGroups": ""}, None, "review", "ccGroups"),
    ({"assignee": "leader name"}, None, "review", "assignee"),
    ({"formJsonSchemaFilename": "../../etc/passwd"}, None, "review", "formJsonSchemaFilename"),
    ({}, {"autoApprove": "always"}, "propped", "autoApprove"),
    ({}, {"lane:Reviewers": "grop:reviewers"}, "propped", "lane:Reviewers"),
    ({}, {"lane:Reviewers": "data:"}, "propped", "lane:Reviewers"),
    ({"name_en": "Review " * 40}, None, "review", "name_en"),  # 280 characters
    ({"name_en": "Review&#10;and sign"}, None, "review", "name_en"),  # two lines
    ({}, {"name_en": "  "}, "propped", "name_en"),
]


@pytest.mark.parametrize(
    ("task", "process", "element", "name"),
    REFUSED,
    ids=[f"{r[3]}={(r[1] or r[0]).get(r[3])!r}" for r in REFUSED],
)
def test_a_bad_property_value_is_a_deploy_problem_naming_its_element(
    engine: Engine,
    task: dict[str, str],
    process: dict[str, str] | None,
    element: str,
    name: str,
) -> None:
    before = [(d.key, d.version) for d in engine.list_definitions()]
    with pytest.raises(DefinitionInvalidError) as refused:
        engine.deploy({"propped.bpmn": diagram(task, process)}, actor="admin")
    [problem] = [p for p in refused.value.problems if p.code == "invalid-property"]
    assert problem.element_id == element
    assert f"{name}=" in problem.message and f"'{element}'" in problem.message
    assert f"{name}=" in problem.message_zh and "无效" in problem.message_zh
    assert [(d.key, d.version) for d in engine.list_definitions()] == before


def test_good_values_deploy_and_become_one_frozen_policy_per_element(engine: Engine) -> None:
    task = {
        "candidateGroups": "reviewers, office，legal",
        "ccGroups": "office",
        "dueIn": "P2W",
        "timeout": "PT36H",
        "timeoutAction": "approve",
        "approvalMode": "ratio:0.6",
        "approvers": "signers",
        "onReject": "return",
        "rejectDecision": "fail",
    }
    engine.deploy(
        {"propped.bpmn": diagram(task, {"autoApprove": "consecutive", "lane:Reviewers": "data:leader"})},
        actor="admin",
    )
    with engine.store.read() as s:
        row = engine.catalog.latest(s, "propped")
        model = engine.catalog.model(row)
        assert engine.catalog.model(row) is model  # parsed once per version
    review = model.policy("review")
    assert review == TaskPolicy(
        "review",
        candidate_groups=("reviewers", "office", "legal"),
        cc_groups=("office",),
        due_in="P2W",
        timeout="PT36H",
        timeout_action="approve",
        approval_mode="ratio:0.6",
        approvers="signers",
        on_reject="return",
        reject_decision="fail",
    )
    assert review.ratio == 0.6
    with pytest.raises(AttributeError):
        review.approval_mode = "any"  # type: ignore[misc]
    assert model.policy("s") == model.policy("e") == TaskPolicy("")  # elements that say nothing
    assert model.process.auto_approve == "consecutive" and dict(model.process.lanes) == {
        "Reviewers": "data:leader"
    }


PROPERTY_NAMES = (
    "approvalMode",
    "approvers",
    "onReject",
    "rejectDecision",
    "timeoutAction",
    "ccGroups",
    "dueIn",
    "autoApprove",
    "candidateGroups",
    "formJsonSchemaFilename",
    "startVariables",
)


def test_only_the_policy_module_reads_extension_properties() -> None:
    readers = {}
    for path in sorted(ENGINE_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and (node.value in PROPERTY_NAMES or node.value in ("lane:", "extensions"))
            ):
                readers.setdefault(str(path.relative_to(ENGINE_DIR)), set()).add(node.value)
            if isinstance(node, ast.Attribute) and node.attr == "extensions":
                readers.setdefault(str(path.relative_to(ENGINE_DIR)), set()).add(".extensions")
    assert set(readers) == {"definitions/policy.py"}, readers
