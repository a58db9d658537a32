"""Reading an uploaded problem list (.xlsx) without trusting it.

A workbook is a zip of XML: the upload is capped in size, its unpacked size is capped before
openpyxl opens it (a zip bomb stops here), it is read in ``read_only`` mode row by row with a row
cap, and formulas are never evaluated: a formula cell is reported, not computed. What comes out
is plain cell values under the template's Chinese headers; the checks of each value live in
``problems.py``.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError, TooLargeError

#: The template's columns, in order: header -> the field it fills.
COLUMNS: dict[str, str] = {
    "编号": "number",
    "类别": "category",
    "题目": "title",
    "问题描述": "description",
    "目标": "goals",
    "牵头单位": "lead_unit",
    "时限": "deadline",
    "分值": "points",
}
REQUIRED = ("类别", "题目", "问题描述", "目标", "牵头单位", "时限", "分值")
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_ROWS = 1000
MAX_COLUMNS = 40


@dataclass(frozen=True)
class SheetRow:
    """One data row: its row number in the sheet, values by header, and headers holding a formula."""

    row: int
    values: dict[str, Any]
    formulas: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetProblem:
    """A refusal of the sheet as a whole or of one cell: row 1 is the header row."""

    row: int
    column: str
    message: str


def read_rows(content: bytes) -> tuple[list[SheetRow], list[SheetProblem]]:
    """The data rows of the first sheet under the template's headers, and what is wrong with the layout."""
    if len(content) > MAX_FILE_BYTES:
        raise TooLargeError(f"the file is over {MAX_FILE_BYTES // 1024} KiB / 文件超过大小上限")
    _check_archive(content)
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # slow to import; only imports need it

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise _not_xlsx() from exc
    try:
        sheet = book.worksheets[0]
        lines = sheet.iter_rows(max_col=MAX_COLUMNS)
        header_cells = next(lines, None)
        if header_cells is None:
            return [], [SheetProblem(1, "", "表格为空：第 1 行应为表头（编号、类别、题目……）")]
        headers = [_text(c.value) for c in header_cells]
        problems = [
            SheetProblem(1, name, f"缺少列「{name}」：请使用本批次的导入模板")
            for name in COLUMNS
            if name not in headers and (name in REQUIRED)
        ]
        if problems:
            return [], problems
        where = {name: headers.index(name) for name in COLUMNS if name in headers}
        rows: list[SheetRow] = []
        for number, cells in enumerate(lines, start=2):
            values: dict[str, Any] = {}
            formulas: list[str] = []
            for name, index in where.items():
                cell = cells[index] if index < len(cells) else None
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f":
                    formulas.append(name)
                values[name] = value.strip() if isinstance(value, str) else value
            if all(v in (None, "") for v in values.values()):
                continue  # blank lines between blocks of a list are common
            if len(rows) == MAX_ROWS:
                return [], [SheetProblem(number, "", f"行数超过上限 {MAX_ROWS}：请分批导入")]
            rows.append(SheetRow(number, values, tuple(formulas)))
        return rows, []
    finally:
        book.close()


def _check_archive(content: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise _not_xlsx() from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise TooLargeError("the workbook unpacks too large / 工作簿解压后过大，拒绝读取")


def _not_xlsx() -> InvalidInputError:
    return InvalidInputError(
        "not an .xlsx workbook", {"file": ["not a readable .xlsx workbook / 不是有效的 .xlsx 文件"]}
    )


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""
