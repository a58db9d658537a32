"""Hostile XML is refused before parsing finishes, and refusing it costs next to nothing."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from lxml import etree

from engine.definitions.xmlguard import check_xml, safe_parser
from engine.errors import HostileDiagramError

SMALL_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
    targetNamespace="http://example.org/jiebang">
  <?spiff-modeler version="1"?>
  <!-- a comment is fine -->
  <bpmn:process id="p" name="\xe6\x8f\xad\xe6\xa6\x9c" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f" sourceRef="start" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol9;</bpmn:definitions>"""


@contextmanager
def fails_fast(seconds: float = 0.5) -> Iterator[pytest.ExceptionInfo[HostileDiagramError]]:
    # CPU time of this thread, not wall time: the bound is about work done, and stays true on a
    # loaded machine where wall time also counts the wait for a core. The collector is held off:
    # in a long test worker one full collection of its heap alone can take seconds.
    gc.collect()
    gc.disable()
    try:
        started = time.thread_time()
        with pytest.raises(HostileDiagramError) as caught:
            yield caught
        assert time.thread_time() - started < seconds, "refusing hostile XML must be cheap"
    finally:
        gc.enable()


def only_problem(caught: pytest.ExceptionInfo[HostileDiagramError]):
    [problem] = caught.value.problems
    assert problem.element_id is None
    assert problem.message and problem.message_zh
    return problem


def test_small_normal_bpmn_passes_and_parses_with_the_safe_parser() -> None:
    check_xml(SMALL_BPMN, name="ok.bpmn")
    root = etree.fromstring(SMALL_BPMN, safe_parser())
    assert root.find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process").get("id") == "p"


def test_billion_laughs_is_refused_before_any_expansion() -> None:
    with fails_fast(0.1) as caught:
        check_xml(BILLION_LAUGHS, name="bomb.bpmn")
    problem = only_problem(caught)
    assert problem.code == "xml-doctype"
    assert problem.file == "bomb.bpmn"
    assert "DOCTYPE" in problem.message


def test_xxe_to_a_local_file_is_refused() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
        b"<definitions><documentation>&xxe;</documentation></definitions>"
    )
    with fails_fast(0.1) as caught:
        check_xml(xxe)
    assert only_problem(caught).code == "xml-doctype"


def test_xxe_over_http_and_external_dtd_are_refused_without_network() -> None:
    for payload in (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "http://169.254.169.254/latest/meta-data/">]>'
        b"<d>&x;</d>",
        b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd"><d>x</d>',
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]><d/>',
    ):
        with fails_fast(0.2) as caught:
            check_xml(payload)
        assert only_problem(caught).code in {"xml-doctype", "xml-not-xml"}


def test_safe_parser_does_not_expand_entities() -> None:
    xxe = b'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]><d>&xxe;</d>'
    root = etree.fromstring(xxe, safe_parser())
    assert (root.text or "") == ""


def test_ten_thousand_deep_nesting_is_refused() -> None:
    deep = b"<a>" * 10_000 + b"</a>" * 10_000
    with fails_fast(0.2) as caught:
        check_xml(deep)
    assert only_problem(caught).code == "xml-too-deep"


def test_nesting_at_the_limit_passes() -> None:
    check_xml(b"<a>" * 64 + b"</a>" * 64)
    with pytest.raises(HostileDiagramError):
        check_xml(b"<a>" * 65 + b"</a>" * 65)


def test_twenty_megabyte_file_is_refused_by_size() -> None:
    big = b"<definitions>" + b"x" * 20_000_000 + b"</definitions>"
    with fails_fast(0.1) as caught:
        check_xml(big)
    problem = only_problem(caught)
    assert problem.code == "xml-too-large"
    assert "5,000,000" in problem.message


def test_hundred_thousand_elements_are_refused() -> None:
    many = b"<definitions>" + b"<e/>" * 100_000 + b"</definitions>"
    with fails_fast(1.5) as caught:  # stops at element 50,001; ~0.1 s even on a loaded machine
        check_xml(many)
    assert only_problem(caught).code == "xml-too-many-elements"


def test_giant_attribute_is_refused() -> None:
    with fails_fast() as caught:
        check_xml(b'<definitions name="' + b"x" * 200_000 + b'"/>')
    assert only_problem(caught).code == "xml-attribute-too-long"


def test_garbage_bytes_are_refused_as_not_utf8() -> None:
    with fails_fast() as caught:
        check_xml(bytes(range(256)) * 100, name="garbage.bpmn")
    problem = only_problem(caught)
    assert problem.code == "xml-not-utf8"
    assert problem.line is not None


@pytest.mark.parametrize(
    "payload", [b"hello world\nnot xml at all", b"<a><b></a>", b"<a>", b'{"json": true}']
)
def test_non_xml_is_refused_with_a_line_number(payload: bytes) -> None:
    with fails_fast() as caught:
        check_xml(payload)
    problem = only_problem(caught)
    assert problem.code == "xml-not-xml"
    assert problem.line is not None
    assert "line" in problem.message


def test_empty_file_is_refused() -> None:
    with fails_fast() as caught:
        check_xml(b"   \n")
    assert only_problem(caught).code == "xml-empty"
