"""Task forms as people read them: the JSON Schema in the page's language, errors in plain words
under the labels people see, and the values a form starts from.

Schemas are written in Chinese (titles, descriptions, ``x-enumTitles``). English comes from the
same catalogue as the pages: ``extract_schema`` lets ``pybabel extract`` pick the schema texts up
(api/translations/babel.cfg), so a Chinese text is its own msgid and a form deployed later without
an English entry simply stays Chinese rather than showing a key.

Annotations the page understands (the engine ignores ``x-`` keywords it has no rule for):
``x-enumTitles`` (value → label), ``x-widget`` (textarea, person, claim), ``x-prefill: false``
(never start from an earlier person's value, e.g. a comment) and ``x-defaultFrom`` (start from
another field of the instance, e.g. the committee's points from the proposed points).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import IO, Any

from flask_babel import gettext as _
from jsonschema import Draft202012Validator, ValidationError

__all__ = [
    "client_messages",
    "extract_schema",
    "field_label",
    "initial_data",
    "localize",
    "plain_errors",
]

_TEXT_KEYS = ("title", "description")


def _walk(node: Any, visit: Callable[[dict[str, Any]], None]) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def localize(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy of ``schema`` with its titles, help texts and option labels in the page's language."""
    if not schema:
        return None
    out = copy.deepcopy(schema)

    def visit(node: dict[str, Any]) -> None:
        for key in _TEXT_KEYS:
            if isinstance(node.get(key), str) and node[key]:
                node[key] = _(node[key])
        titles = node.get("x-enumTitles")
        if isinstance(titles, dict):
            node["x-enumTitles"] = {k: _(v) if isinstance(v, str) and v else v for k, v in titles.items()}

    _walk(out, visit)
    return out


def extract_schema(
    fileobj: IO[bytes], _keywords: Any, _comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction method for forms/*.schema.json: every title, description and option label."""
    texts: list[str] = []

    def visit(node: dict[str, Any]) -> None:
        texts.extend(node[k] for k in _TEXT_KEYS if isinstance(node.get(k), str) and node[k])
        titles = node.get("x-enumTitles")
        if isinstance(titles, dict):
            texts.extend(v for v in titles.values() if isinstance(v, str) and v)

    _walk(json.loads(fileobj.read().decode("utf-8")), visit)
    for text in texts:
        yield 1, "gettext", text, []


# ---- the values a form starts from -------------------------------------------------------------
def initial_data(
    schema: dict[str, Any] | None, start: dict[str, Any], instance_data: dict[str, Any]
) -> dict[str, Any]:
    """What the form shows first: the task's data without anyone's earlier personal remarks
    (``x-prefill: false``), and values proposed earlier where the form asks for them (``x-defaultFrom``)."""
    if not schema:
        return dict(start)
    props = schema.get("properties") or {}
    data = {k: v for k, v in start.items() if (props.get(k) or {}).get("x-prefill", True) is not False}
    for key, prop in props.items():
        source = prop.get("x-defaultFrom") if isinstance(prop, dict) else None
        if key not in data and isinstance(source, str) and instance_data.get(source) is not None:
            data[key] = instance_data[source]
    return data


# ---- errors in plain words ---------------------------------------------------------------------
def _node(schema: dict[str, Any], path: list[str]) -> dict[str, Any] | None:
    node: Any = schema
    for part in path:
        if not isinstance(node, dict):
            return None
        if part.isdigit() and isinstance(node.get("items"), dict):
            node = node["items"]
        else:
            node = (node.get("properties") or {}).get(part)
    return node if isinstance(node, dict) else None


def field_label(schema: dict[str, Any] | None, path: str) -> str:
    """The label people see for ``path`` (``members.1.share`` → 团队成员 第 2 项 贡献占比)."""
    if not path:
        return _("表单")
    if not schema:
        return path
    parts = path.split(".")
    words: list[str] = []
    for i, part in enumerate(parts):
        if part.isdigit():
            words.append(_("第 %(n)s 项", n=int(part) + 1))
            continue
        node = _node(schema, parts[: i + 1])
        words.append(str(node.get("title") or part) if node else part)
    return " ".join(words)


def _choose(field: dict[str, Any]) -> bool:
    """Whether a field is picked (a select, a date, a person, a claim) rather than typed."""
    return (
        "enum" in field
        or field.get("x-widget") in ("claim", "person")
        or field.get("format") in ("date", "date-time")
    )


def _messages(err: ValidationError, schema: dict[str, Any]) -> list[tuple[str, str]]:
    base = [str(p) for p in err.absolute_path]
    if err.validator == "required" and isinstance(err.instance, dict):
        return [
            (".".join([*base, p]), _("请选择") if _choose(_node(schema, [*base, p]) or {}) else _("请填写"))
            for p in err.validator_value
            if p not in err.instance
        ]
    return [_message(err, ".".join(base))]


def _message(err: ValidationError, path: str) -> tuple[str, str]:
    kind, limit = str(err.validator), err.validator_value
    if kind == "minLength":
        return path, _("请填写") if limit == 1 else _("至少 %(n)s 个字", n=limit)
    if kind == "maxLength":
        return path, _("不能超过 %(n)s 个字", n=limit)
    if kind == "minimum":
        return path, _("不能小于 %(n)s", n=limit)
    if kind == "exclusiveMinimum":
        return path, _("须大于 %(n)s", n=limit)
    if kind in ("maximum", "exclusiveMaximum"):
        return path, _("不能大于 %(n)s", n=limit)
    if kind == "type":
        return path, _("请填写数字") if limit in ("number", "integer") else _("填写的内容不正确")
    if kind in ("enum", "const"):
        return path, _("请从选项中选择")
    if kind in ("pattern", "format"):
        return path, _("格式不正确")
    if kind == "x-sumOf":
        return path, _("贡献占比合计须为 %(n)s", n=(limit or {}).get("equals", 100))
    if kind == "additionalProperties":
        return path, _("包含表单以外的内容")
    return path, _("填写的内容不正确")


def plain_errors(
    schema: dict[str, Any] | None, data: Any, engine_errors: dict[str, list[str]] | None = None
) -> dict[str, str]:
    """One plain message per field for a refused form (field path → message in the page's language).

    The engine has already said *which* fields failed; the schema tells *why* in words a clerk reads.
    Fields the engine refused for reasons the schema cannot see keep a general message.
    """
    out: dict[str, str] = {}
    if schema and isinstance(data, dict):
        validator = Draft202012Validator(schema)
        for err in sorted(validator.iter_errors(data), key=lambda e: len(list(e.absolute_path))):
            for sub in _leaves(err):
                for path, message in _messages(sub, schema):
                    out.setdefault(path, message)
    for path in engine_errors or {}:
        out.setdefault(path, _("填写的内容不正确"))
    return out


def _leaves(err: ValidationError) -> list[ValidationError]:
    """The errors under an ``allOf``/``if-then`` wrapper, which name the actual fields."""
    if err.context:
        return [leaf for sub in err.context for leaf in _leaves(sub)]
    return [err]


def client_messages() -> dict[str, str]:
    """The texts the browser needs to check a form before sending it, in the page's language."""
    return {
        "fill": _("请填写"),
        "choose": _("请选择"),
        "minLength": _("至少 %(n)s 个字", n="{n}"),
        "maxLength": _("不能超过 %(n)s 个字", n="{n}"),
        "minimum": _("不能小于 %(n)s", n="{n}"),
        "exclusiveMinimum": _("须大于 %(n)s", n="{n}"),
        "maximum": _("不能大于 %(n)s", n="{n}"),
        "number": _("请填写数字"),
        "integer": _("请填写整数"),
        "format": _("格式不正确"),
        "sum": _("贡献占比合计须为 %(n)s", n="{n}"),
        "summary": _("表单有误，请修改后重新提交："),
        "item": _("第 %(n)s 项", n="{n}"),
        "add": _("添加"),
        "remove": _("删除"),
        "days": _("天"),
        "weeks": _("周"),
        "months": _("个月"),
        "search": _("输入姓名搜索"),
        "none": _("没有找到此人"),
        "required": _("必填"),
        "placeholder": _("请选择"),
        "team": _("团队"),
        "alone": _("个人"),
        "plan": _("实施方案"),
        "pledge": _("承诺"),
        "leader": _("挂帅人"),
    }
