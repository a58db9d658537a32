"""JSON Schema forms: validate a task submission before any of it reaches the workflow.

Errors come back keyed by field path (``members.1.share``) with an English and a Chinese
message, so a page can show each under its field and the API can return them on a 422.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError

from .. import durations
from ..errors import FormInvalidError, InvalidInputError
from ..payload import check_json_value
from . import patterns

_formats = FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    reason = durations.instant_problem(value) if isinstance(value, str) else None
    if reason:
        raise ValueError(reason)
    return True


@_formats.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if isinstance(value, str):
        datetime.strptime(value, "%Y-%m-%d")
    return True


@_formats.checks("duration", raises=ValueError)
def _is_duration(value: object) -> bool:
    if isinstance(value, str):
        durations.parse_duration(value)  # the sandbox's add_duration and the timers read it the same way
    return True


def _sum_of(
    validator: Any, spec: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:  # jsonschema hook
    """``x-sumOf: {"property": "share", "equals": 100}``: shares of a team must add up."""
    if not isinstance(instance, list) or not instance:
        return
    prop, target = spec.get("property"), spec.get("equals")
    total = sum(
        item.get(prop, 0)
        for item in instance
        if isinstance(item, dict) and isinstance(item.get(prop, 0), (int, float))
    )
    if abs(total - target) > 1e-9:
        yield ValidationError(f"the {prop} values must sum to {target} (they sum to {total:g})")


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:  # jsonschema hook
    """``pattern`` matched in linear time (see engine.definitions.patterns), whatever the form's author wrote."""
    if validator.is_type(instance, "string") and not patterns.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, by_pattern: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:  # jsonschema hook
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in by_pattern.items():
        for key, value in instance.items():
            if patterns.search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, allowed: object, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:  # jsonschema hook
    """jsonschema's ``additionalProperties``, with ``patternProperties`` keys matched as above."""
    if not validator.is_type(instance, "object"):
        return
    declared = schema.get("properties", {})
    by_pattern = schema.get("patternProperties", {})
    extras = [k for k in instance if k not in declared and not any(patterns.search(p, k) for p in by_pattern)]
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        yield ValidationError(
            f"Additional properties are not allowed ({', '.join(map(repr, sorted(extras)))} unexpected)"
        )


FormValidator = validators.extend(
    Draft202012Validator,
    {
        "x-sumOf": _sum_of,
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
)

_ZH = {
    "required": "必填项",
    "type": "类型不正确",
    "enum": "取值不在允许范围内",
    "const": "取值不正确",
    "minimum": "数值过小",
    "maximum": "数值过大",
    "exclusiveMinimum": "数值过小",
    "exclusiveMaximum": "数值过大",
    "minLength": "内容过短",
    "maxLength": "内容过长",
    "minItems": "条目过少",
    "maxItems": "条目过多",
    "pattern": "格式不正确",
    "format": "格式不正确",
    "additionalProperties": "包含不允许的字段",
    "x-sumOf": "份额合计必须为 100",
}


_validators: dict[int, tuple[dict[str, Any], Any]] = {}


def _validator(schema: dict[str, Any]) -> Any:
    """One compiled validator per schema object (models keep their schemas for their lifetime)."""
    hit = _validators.get(id(schema))
    if hit is None or hit[0] is not schema:
        if len(_validators) > 1000:
            _validators.clear()
        hit = (schema, FormValidator(schema, format_checker=_formats))
        _validators[id(schema)] = hit
    return hit[1]


def check_schema(schema: dict[str, Any]) -> str | None:
    """Why a form schema is unusable, or None."""
    try:
        FormValidator.check_schema(schema)
    except SchemaError as exc:
        return exc.message
    return None


def validate(schema: dict[str, Any] | None, data: Any) -> None:
    """Raise FormInvalidError listing every field that fails ``schema`` or cannot be stored at all."""
    if not isinstance(data, dict):
        raise FormInvalidError("form data must be an object", {"": ["must be an object / 必须是对象"]})
    try:
        check_json_value(data)  # NaN, NUL, lone surrogates: no schema keyword refuses them all
    except InvalidInputError as exc:
        raise FormInvalidError(exc.detail, exc.errors) from None
    if schema is None:
        return
    errors: dict[str, list[str]] = {}
    for err in _validator(schema).iter_errors(data):
        for path, message in _describe(err):
            errors.setdefault(path, []).append(message)
    if errors:
        fields = ", ".join(sorted(errors))
        raise FormInvalidError(f"form data invalid: {fields}", errors)


def _describe(err: ValidationError) -> list[tuple[str, str]]:
    base = ".".join(str(p) for p in err.absolute_path)
    zh = _ZH.get(str(err.validator), "不符合要求")
    if err.validator == "required" and isinstance(err.instance, dict):
        missing = [p for p in err.validator_value if p not in err.instance]
        return [(f"{base}.{p}" if base else p, f"required / {zh}") for p in missing]
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        extra = [p for p in err.instance if p not in allowed]
        return [(f"{base}.{p}" if base else p, f"not allowed / {zh}") for p in extra] or [(base, err.message)]
    return [(base, f"{err.message} / {zh}")]


def form_data(schema: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, Any]:
    """The part of the instance data a form starts from: the values of its own fields (all, without a form)."""
    if not schema:
        return dict(data)
    props = schema.get("properties") or {}
    return {k: data[k] for k in props if k in data}
