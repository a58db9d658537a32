"""Checking an uploaded list row by row, and turning a good row into a problem's process data.

Every cell is checked and every refusal kept (row, column, a Chinese message), so a clerk fixes
the whole sheet in one pass; the caller writes nothing unless the list comes back clean.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from ..challenge.board import LOCAL_TZ
from .records import RowError
from .sheet import REQUIRED, SheetRow

MAX_TEXT = {"题目": 200, "问题描述": 5000, "目标": 5000}
MAX_POINTS = 100  # the application form's ceiling for proposed points
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


@dataclass(frozen=True)
class UnitRef:
    code: str
    name: str


@dataclass(frozen=True)
class ListedProblem:
    """A checked row: its number (``None``: the next free one), the sheet row, the process data."""

    row: int
    number: int | None
    category: str
    lead_unit: UnitRef
    data: dict[str, Any]


def check_rows(
    rows: list[SheetRow],
    *,
    categories: list[str],
    units: Mapping[str, list[UnitRef]],
    today: date,
) -> tuple[list[ListedProblem], list[RowError]]:
    """The rows as problems, or every refusal. ``units`` maps a unit's code and its name to the units so called."""
    good: list[ListedProblem] = []
    errors: list[RowError] = []
    seen: dict[int, int] = {}
    for line in rows:
        bad = _RowCheck(line, errors)
        for name in line.formulas:
            bad(name, "不接受公式：请填写数值或文字")
        for name in REQUIRED:
            if name not in line.formulas and line.values.get(name) in (None, ""):
                bad(name, f"「{name}」必填")
        number = _number(line, bad, seen)
        category = _category(line, bad, categories)
        texts = {name: _text(line, name, bad) for name in MAX_TEXT}
        unit = _unit(line, bad, units)
        deadline = _deadline(line, bad, today)
        points = _points(line, bad)
        if bad.count or category is None or unit is None or deadline is None or points is None:
            continue
        data = {
            "title": texts["题目"],
            "category": category,
            "description": texts["问题描述"],
            "goals": texts["目标"],
            "proposed_deadline": deadline,
            "proposed_points": points,
        }
        good.append(ListedProblem(line.row, number, category, unit, data))
    return good, errors


class _RowCheck:
    """Collects one row's refusals into the list of all."""

    def __init__(self, line: SheetRow, errors: list[RowError]) -> None:
        self.line, self.errors, self.count, self.columns = line, errors, 0, set[str]()

    def __call__(self, column: str, message: str) -> None:
        if column in self.columns:
            return  # one message per cell: the first thing wrong with it
        self.columns.add(column)
        self.count += 1
        self.errors.append(RowError(self.line.row, column, message))

    def skip(self, column: str) -> bool:
        """A cell already refused (empty, a formula) is not checked again."""
        return column in self.columns


def _number(line: SheetRow, bad: _RowCheck, seen: dict[int, int]) -> int | None:
    raw = line.values.get("编号")
    if raw in (None, "") or bad.skip("编号"):
        return None
    value = _as_number(raw)
    if value is None or value != int(value) or value < 1 or value > 999_999:
        bad("编号", f"编号「{raw}」须为正整数")
        return None
    number = int(value)
    if number in seen:
        bad("编号", f"编号 {number} 与第 {seen[number]} 行重复")
        return None
    seen[number] = line.row
    return number


def _category(line: SheetRow, bad: _RowCheck, categories: list[str]) -> str | None:
    raw = line.values.get("类别")
    if bad.skip("类别"):
        return None
    value = str(raw).strip()
    if value not in categories:
        bad("类别", f"类别「{value}」不在本批次的类别中（{'、'.join(categories)}）")
        return None
    return value


def _text(line: SheetRow, name: str, bad: _RowCheck) -> str:
    if bad.skip(name):
        return ""
    value = str(line.values.get(name)).strip()
    if len(value) > MAX_TEXT[name]:
        bad(name, f"「{name}」过长：最多 {MAX_TEXT[name]} 字，现有 {len(value)} 字")
    return value


def _unit(line: SheetRow, bad: _RowCheck, units: Mapping[str, list[UnitRef]]) -> UnitRef | None:
    if bad.skip("牵头单位"):
        return None
    value = str(line.values.get("牵头单位")).strip()
    found = units.get(value) or []
    if not found:
        bad("牵头单位", f"牵头单位「{value}」不存在：请填写本县已有单位的名称或编码")
        return None
    if len({u.code for u in found}) > 1:
        codes = "、".join(sorted(u.code for u in found))
        bad("牵头单位", f"有多个单位名为「{value}」（{codes}）：请填写单位编码")
        return None
    return found[0]


def _deadline(line: SheetRow, bad: _RowCheck, today: date) -> str | None:
    if bad.skip("时限"):
        return None
    raw = line.values.get("时限")
    day = _as_date(raw)
    if day is None:
        bad("时限", f"时限「{raw}」不是日期：请填写如 2026-12-31")
        return None
    if day <= today:
        bad("时限", f"时限 {day.isoformat()} 已过：须晚于今天")
        return None
    return datetime.combine(day, time(23, 59, 59), LOCAL_TZ).isoformat()


def _points(line: SheetRow, bad: _RowCheck) -> float | int | None:
    if bad.skip("分值"):
        return None
    raw = line.values.get("分值")
    value = _as_number(raw)
    if value is None or value <= 0:
        bad("分值", f"分值「{raw}」须为正数")
        return None
    if not 1 <= value <= MAX_POINTS:
        bad("分值", f"分值 {value:g} 须在 1 到 {MAX_POINTS} 之间")
        return None
    return int(value) if value == int(value) else value


def _as_number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        try:
            value = float(str(raw).strip())
        except ValueError:
            return None
    return value if math.isfinite(value) else None


def _as_date(raw: Any) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    match = _DATE.match(str(raw).strip()) if raw is not None else None
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
