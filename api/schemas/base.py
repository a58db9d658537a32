"""The base of every API schema: marshmallow, with a dump loop planned once per schema.

marshmallow spends most of a dump looking each field's value up through three layers of
calls (``Field.serialize`` → ``get_value`` → ``utils.get_value``); an inbox page of twenty tasks
is 400 of those. This base plans the loop once per schema instance (output key, attribute,
the field's own ``_serialize``, its dump default) and then runs it flat. What a value becomes
is each field's own ``_serialize`` (for plain ``String`` and ``DateTime`` fields, the same
conversion called directly), and ``dump`` still runs the schema's hooks, so the output is
marshmallow's (``tests/api/test_schemas.py`` compares the two on every schema).
Fields marshmallow treats specially (dotted attributes, fields that do not read an attribute,
overridden ``serialize``) and schemas with their own ``get_attribute`` take marshmallow's loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow
from marshmallow import fields, missing, utils

_Step = tuple[str, str, Callable[..., Any], Any]


class Schema(marshmallow.Schema):
    def _serialize(self, obj: Any, *, many: bool = False) -> Any:
        plan = self.__dict__.get("_dump_plan")
        if plan is None:
            plan = self.__dict__["_dump_plan"] = _plan(self)
        if plan is False:
            return super()._serialize(obj, many=many)
        if many and obj is not None:
            return [_dump_one(plan, o, self.dict_class) for o in obj]
        return _dump_one(plan, obj, self.dict_class)


def _plan(schema: Schema) -> list[_Step] | bool:
    if type(schema).get_attribute is not marshmallow.Schema.get_attribute:
        return False
    plan: list[_Step] = []
    for attr_name, field in schema.dump_fields.items():
        attr = attr_name if field.attribute is None else field.attribute
        if not field._CHECK_ATTRIBUTE or type(field).serialize is not fields.Field.serialize or "." in attr:
            return False
        key = field.data_key if field.data_key is not None else attr_name
        plan.append((key, attr, _converter(field), field.dump_default))
    return plan


def _converter(field: fields.Field) -> Callable[..., Any]:
    """``field._serialize``, or for the commonest leaf fields the same conversion without the call chain."""
    kind = type(field)
    if kind is fields.String:
        return _string
    if kind is fields.DateTime and (field.format or field.DEFAULT_FORMAT) in field.SERIALIZATION_FUNCS:
        to_text = field.SERIALIZATION_FUNCS[field.format or field.DEFAULT_FORMAT]
        return lambda value, _attr, _obj: None if value is None else to_text(value)
    return field._serialize


def _string(value: Any, _attr: str, _obj: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    return utils.ensure_text_type(value)


def _dump_one(plan: list[_Step], obj: Any, dict_class: type) -> Any:
    out = dict_class()
    mapping = hasattr(obj, "__getitem__")
    for key, attr, serialize, default in plan:
        if mapping:
            try:
                value = obj[attr]
            except (KeyError, IndexError, TypeError, AttributeError):
                value = getattr(obj, attr, missing)
        else:
            value = getattr(obj, attr, missing)
        if value is missing:
            value = default() if callable(default) else default
            if value is missing:
                continue
        value = serialize(value, attr, obj)
        if value is not missing:
            out[key] = value
    return out
