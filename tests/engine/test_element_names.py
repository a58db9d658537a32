"""Names in one language per page: a diagram names its elements in Chinese, with an optional
``name_en`` property beside each; the catalog reads both per version."""

from __future__ import annotations

import pytest

from engine import Engine
from engine.errors import DefinitionInvalidError

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="http://jiebang.example/test">"""


def english(name: str | None) -> str:
    if name is None:
        return ""
    return (
        "<bpmn:extensionElements><spiffworkflow:properties>"
        f'<spiffworkflow:property name="name_en" value="{name}"/>'
        "</spiffworkflow:properties></bpmn:extensionElements>"
    )


def diagram(review_en: str | None = "Review", process_en: str | None = "Leave request") -> bytes:
    """请假 (leave request): 审核 (review, English optional) then 归档 (filing, Chinese only)."""
    return f"""{HEAD}
<bpmn:collaboration id="c"><bpmn:participant id="pool" name="请假（泳池）" processRef="leave"/></bpmn:collaboration>
<bpmn:process id="leave" name="请假" isExecutable="true">{english(process_en)}
<bpmn:startEvent id="s" name="提出申请">{english("Request made")}</bpmn:startEvent>
<bpmn:userTask id="review" name="审核">{english(review_en)}</bpmn:userTask>
<bpmn:userTask id="file" name="归档"/>
<bpmn:endEvent id="e"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/>
<bpmn:sequenceFlow id="f2" name="审核后" sourceRef="review" targetRef="file">{english("Reviewed")}</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="f3" sourceRef="file" targetRef="e"/>
</bpmn:process></bpmn:definitions>""".encode()


def test_the_catalog_reads_every_name_in_both_languages(engine: Engine) -> None:
    engine.deploy({"leave.bpmn": diagram()}, actor="admin")
    leave = engine.get_definition("leave")
    assert leave.name == "请假" and leave.name_en == "Leave request"
    assert leave.names["leave"] == {"zh_CN": "请假", "en": "Leave request"}
    assert leave.names["s"] == {"zh_CN": "提出申请", "en": "Request made"}
    assert leave.names["review"] == {"zh_CN": "审核", "en": "Review"}
    assert leave.names["f2"] == {"zh_CN": "审核后", "en": "Reviewed"}  # flows too
    assert leave.names["file"] == {"zh_CN": "归档"}  # no English given
    assert "e" not in leave.names and "f1" not in leave.names  # unnamed elements


def test_the_names_are_read_once_with_the_parsed_version(engine: Engine) -> None:
    engine.deploy({"leave.bpmn": diagram()}, actor="admin")
    with engine.store.read() as s:
        row = engine.catalog.latest(s, "leave")
        model = engine.catalog.model(row)
        assert engine.catalog.model(row).names is model.names
    assert model.names["review"] == {"zh_CN": "审核", "en": "Review"}


def test_each_version_keeps_its_own_names(engine: Engine) -> None:
    engine.deploy({"leave.bpmn": diagram()}, actor="admin")
    engine.deploy({"leave.bpmn": diagram(review_en="Check")}, actor="admin")
    assert engine.get_definition("leave", 1).names["review"]["en"] == "Review"
    assert engine.get_definition("leave", 2).names["review"]["en"] == "Check"


def test_a_process_without_english_takes_its_pools(engine: Engine) -> None:
    """The designer edits the pool's name: its English serves the process that names none."""
    xml = diagram(process_en=None).replace(
        b'processRef="leave"/>',
        b'processRef="leave">' + english("Leave (pool)").encode() + b"</bpmn:participant>",
    )
    engine.deploy({"leave.bpmn": xml}, actor="admin")
    leave = engine.get_definition("leave")
    assert leave.name_en == "Leave (pool)" and leave.names["leave"]["zh_CN"] == "请假"


def test_a_diagram_without_english_names_has_none(engine: Engine) -> None:
    engine.deploy({"leave.bpmn": diagram(review_en=None, process_en=None)}, actor="admin")
    leave = engine.get_definition("leave")
    assert leave.name_en is None and leave.names["review"] == {"zh_CN": "审核"}


def test_an_overlong_english_name_is_refused_at_deploy_naming_its_element(engine: Engine) -> None:
    with pytest.raises(DefinitionInvalidError) as refused:
        engine.deploy({"leave.bpmn": diagram(review_en="R" * 201)}, actor="admin")
    [problem] = refused.value.problems
    assert problem.code == "invalid-property" and problem.element_id == "review"
    assert "name_en" in problem.message and "200" in problem.message_zh
    assert [d.key for d in engine.list_definitions() if d.key == "leave"] == []
