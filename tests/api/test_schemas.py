"""Every response schema dumps exactly what plain marshmallow would: the planned loop changes speed only."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import marshmallow
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import fields, missing

import api.schemas
from api.schemas.base import Schema, _plan


def _schema_classes() -> list[type[Schema]]:
    found: dict[str, type[Schema]] = {}
    for info in pkgutil.iter_modules(api.schemas.__path__):
        module = importlib.import_module(f"api.schemas.{info.name}")
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, marshmallow.Schema)
                and obj.__module__ == module.__name__
            ):
                found[f"{module.__name__}.{name}"] = obj
    return [found[k] for k in sorted(found)]


SCHEMAS = _schema_classes()
TIMES = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]),
)
TEXT = st.text(max_size=8)


def _value(field: fields.Field, depth: int) -> st.SearchStrategy[Any]:
    """Values a record could carry for ``field``: a fitting one, or None."""
    if isinstance(field, fields.Nested):
        inner = _record(field.schema, depth + 1) if depth < 2 else st.just({})
        fitting = st.lists(inner, max_size=3) if field.many else inner
    elif isinstance(field, fields.List):
        fitting = st.lists(_value(field.inner, depth), max_size=3)
    elif isinstance(field, fields.DateTime):
        fitting = TIMES
    elif isinstance(field, fields.Boolean):
        fitting = st.booleans() | st.sampled_from([0, 1, "true"])
    elif isinstance(field, (fields.Integer, fields.Float)):
        fitting = st.integers(-(10**6), 10**6)
    elif isinstance(field, fields.Dict):
        fitting = st.dictionaries(TEXT, st.integers() | TEXT, max_size=3)
    else:
        fitting = TEXT | st.integers()
    return fitting | st.none()


def _record(schema: marshmallow.Schema, depth: int = 0) -> st.SearchStrategy[Any]:
    """A dict or an object holding some of the schema's attributes (the others are missing)."""
    attrs = {(f.attribute or name): _value(f, depth) for name, f in schema.dump_fields.items()}
    as_dict = st.fixed_dictionaries({}, optional=attrs)

    def as_object(values: dict[str, Any]) -> Any:
        cls = dataclasses.make_dataclass("Record", list(values))
        return cls(**values)

    return as_dict | as_dict.map(as_object)


def _marshmallow_dump(schema: marshmallow.Schema, obj: Any, many: bool) -> Any:
    """The same schema dumped by marshmallow's own loop, nested schemas included."""
    original = Schema._serialize
    try:
        Schema._serialize = marshmallow.Schema._serialize  # type: ignore[method-assign]
        return schema.dump(obj, many=many)
    finally:
        Schema._serialize = original  # type: ignore[method-assign]


@pytest.mark.parametrize("schema_cls", SCHEMAS, ids=lambda c: c.__name__)
def test_every_schema_is_built_on_the_planned_base(schema_cls: type[marshmallow.Schema]) -> None:
    assert issubclass(schema_cls, Schema), f"{schema_cls.__name__} should derive from api.schemas.base.Schema"
    assert _plan(schema_cls()) is not False, f"{schema_cls.__name__} falls back to marshmallow's loop"


@pytest.mark.parametrize("schema_cls", SCHEMAS, ids=lambda c: c.__name__)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_dump_matches_marshmallow(schema_cls: type[Schema], data: st.DataObject) -> None:
    schema = schema_cls()
    if any(not f._CHECK_ATTRIBUTE for f in schema.dump_fields.values()):
        pytest.skip("computed fields take marshmallow's own loop")
    many = data.draw(st.booleans())
    obj = data.draw(st.lists(_record(schema), max_size=3) if many else _record(schema))
    try:
        expected = _marshmallow_dump(schema_cls(), obj, many)
    except (TypeError, ValueError, AttributeError) as exc:  # a value the field cannot dump: both must refuse
        with pytest.raises(type(exc)):
            schema.dump(obj, many=many)
        return
    assert schema.dump(obj, many=many) == expected


def test_a_missing_attribute_is_left_out_and_a_dump_default_fills_in() -> None:
    class Item(Schema):
        name = fields.String()
        kind = fields.String(dump_default="task")
        at = fields.DateTime(data_key="created_at")

    @dataclasses.dataclass
    class Bare:
        at: datetime

    when = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert Item().dump(Bare(when)) == {"kind": "task", "created_at": "2026-11-23T08:00:00+00:00"}
    assert Item().dump({"name": None}) == {"name": None, "kind": "task"}
    assert missing not in Item().dump({}, many=False).values()
