"""Refuse hostile XML before the BPMN/DMN parsers ever see it.

Diagrams are uploaded by people, so every byte is untrusted. ``check_xml`` streams the bytes
through lxml's pull parser in small chunks with entity resolution, DTD loading and network access
off, and stops at the first broken limit. A billion-laughs bomb, an XXE to ``file://`` or
``http://``, 10,000-deep nesting or a 20 MB upload therefore cost a few milliseconds, not the
worker. Any DOCTYPE is refused outright: BPMN and DMN never need one, and it is the only place
entities can be declared. ``safe_parser`` gives the catalog a parser with the same options for
the real parse that follows.
"""

from __future__ import annotations

from lxml import etree

from engine.errors import HostileDiagramError, Problem

__all__ = ["check_xml", "safe_parser"]

_CHUNK = 16 * 1024
_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "dtd_validation": False,
}


def safe_parser() -> etree.XMLParser:
    """A parser that never resolves entities, loads DTDs or touches the network."""
    return etree.XMLParser(**_PARSER_OPTIONS)


def _refuse(name: str, code: str, en: str, zh: str, line: int | None = None) -> HostileDiagramError:
    problem = Problem(element_id=None, code=code, message=en, message_zh=zh, file=name, line=line)
    return HostileDiagramError(f"{name}: {en}", problems=[problem])


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def check_xml(
    data: bytes,
    *,
    name: str = "diagram",
    max_bytes: int = 5_000_000,
    max_depth: int = 64,
    max_elements: int = 50_000,
    max_attr_len: int = 100_000,
) -> None:
    """Raise HostileDiagramError unless ``data`` is plain, bounded, UTF-8 XML without a DOCTYPE.

    Checks run cheapest first and the parse aborts at the first element past a limit, so the
    cost of a hostile file is bounded by the limits, not by what the file would expand into.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("check_xml expects bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise _refuse(
            name,
            "xml-too-large",
            f"The file is {len(data):,} bytes; the limit is {max_bytes:,} bytes.",
            f"文件大小为 {len(data):,} 字节，超过上限 {max_bytes:,} 字节。",
        )
    if not data.strip():
        raise _refuse(name, "xml-empty", "The file is empty; it is not XML.", "文件为空，不是 XML。")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = _line_of(data, exc.start)
        raise _refuse(
            name,
            "xml-not-utf8",
            f"The file is not UTF-8 text (undecodable byte at line {bad_line}); it is not a BPMN/DMN XML file.",
            f"文件不是 UTF-8 文本（第 {bad_line} 行有无法解码的字节），不是 BPMN/DMN XML 文件。",
            bad_line,
        ) from None

    parser = etree.XMLPullParser(events=("start", "end"), **_PARSER_OPTIONS)
    depth = 0
    elements = 0
    doctype_checked = False

    def drain() -> None:
        nonlocal depth, elements, doctype_checked
        for event, el in parser.read_events():
            if event == "end":
                depth -= 1
                continue
            depth += 1
            elements += 1
            if not doctype_checked:
                doctype_checked = True
                docinfo = el.getroottree().docinfo
                if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
                    raise _refuse(
                        name,
                        "xml-doctype",
                        "The file declares a DOCTYPE. DOCTYPE and ENTITY declarations are refused "
                        "(they enable entity-expansion bombs and external-entity file/network reads).",
                        "文件包含 DOCTYPE 声明。DOCTYPE 与 ENTITY 声明一律拒绝（可用于实体膨胀攻击和读取外部文件/网络）。",
                        el.sourceline,
                    )
            if depth > max_depth:
                raise _refuse(
                    name,
                    "xml-too-deep",
                    f"Elements are nested more than {max_depth} levels deep (line {el.sourceline}).",
                    f"元素嵌套超过 {max_depth} 层（第 {el.sourceline} 行）。",
                    el.sourceline,
                )
            if elements > max_elements:
                raise _refuse(
                    name,
                    "xml-too-many-elements",
                    f"The file has more than {max_elements:,} elements.",
                    f"文件中的元素超过 {max_elements:,} 个。",
                    el.sourceline,
                )
            for attr, value in el.attrib.items():
                if len(value) > max_attr_len:
                    raise _refuse(
                        name,
                        "xml-attribute-too-long",
                        f"Attribute {etree.QName(attr).localname!r} is {len(value):,} characters long; "
                        f"the limit is {max_attr_len:,}.",
                        f"属性 {etree.QName(attr).localname!r} 长 {len(value):,} 个字符，超过上限 {max_attr_len:,}。",
                        el.sourceline,
                    )

    try:
        for start in range(0, len(data), _CHUNK):
            parser.feed(data[start : start + _CHUNK])
            drain()
        parser.close()
        drain()
    except etree.XMLSyntaxError as exc:
        # Events parsed before the error may already show the real reason (depth, DOCTYPE).
        try:
            drain()
        except HostileDiagramError:
            raise
        except Exception:  # the syntax error below is the better report
            pass
        line = exc.position[0] if exc.position else getattr(exc, "lineno", None)
        msg = str(exc.msg if hasattr(exc, "msg") else exc)
        if "depth" in msg.lower():
            raise _refuse(
                name,
                "xml-too-deep",
                f"Elements are nested more than {max_depth} levels deep (line {line}).",
                f"元素嵌套超过 {max_depth} 层（第 {line} 行）。",
                line,
            ) from None
        if "entit" in msg.lower() or "doctype" in msg.lower():
            raise _refuse(
                name,
                "xml-doctype",
                f"The file uses DOCTYPE or ENTITY constructs, which are refused (line {line}: {msg}).",
                f"文件使用了 DOCTYPE 或 ENTITY，已拒绝（第 {line} 行：{msg}）。",
                line,
            ) from None
        raise _refuse(
            name,
            "xml-not-xml",
            f"The file is not well-formed XML (line {line}: {msg}).",
            f"文件不是格式正确的 XML（第 {line} 行：{msg}）。",
            line,
        ) from None
    if elements == 0:
        raise _refuse(name, "xml-not-xml", "The file has no XML root element.", "文件没有 XML 根元素。")
