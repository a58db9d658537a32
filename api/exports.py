"""Excel workbooks the API and the pages serve, written by one function so no export can forget
that a cell's text comes from users; the month's scores are one workbook, whichever door it leaves by.

A name or reason such as ``=HYPERLINK(...)`` or ``+cmd|...`` would become a live formula in the
reader's spreadsheet (CSV/formula injection, OWASP). Every text cell is therefore written as a
string cell with Excel's quote prefix: the text is shown as typed and never evaluated.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING

from .extension import get_engine

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What spreadsheet programs treat as the start of a formula (OWASP's list, plus CR and LF).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]]]

LEDGER_HEADER = ("username", "points", "instance_id", "reason", "awarded_at")
LEADERBOARD_HEADER = ("rank", "username", "display_name", "points")


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """An .xlsx file with one sheet per ``(title, header, rows)``; every text is inert."""
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(_sheet_title(title))
        for row, values in enumerate([header, *rows], start=1):
            for column, value in enumerate(values, start=1):
                write_cell(sheet.cell(row=row, column=column), value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def scores_download(period: str | None, *, viewer: str) -> Response:
    """The score workbook of ``period`` (``YYYY-MM``, this month when ``None``) as a download.

    The first sheet is the ledger, one row per entry with the field names of ``GET /scores`` as
    its header and ISO 8601 times (what the OA reads); the second is the month's leaderboard.
    """
    period, leaders, ledger = get_engine().score_export(period, viewer=viewer)
    body = workbook(
        [
            (
                period,
                LEDGER_HEADER,
                (
                    [r["username"], r["points"], r["instance_id"], r["reason"], r["awarded_at"].isoformat()]
                    for r in ledger
                ),
            ),
            (
                "leaderboard",
                LEADERBOARD_HEADER,
                ([r["rank"], r["username"], r["display_name"], r["points"]] for r in leaders),
            ),
        ]
    )
    return Response(
        body,
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="scores-{period}.xlsx"'},
    )


def write_cell(cell: Any, value: Any) -> None:  # an openpyxl cell and any cell value
    """Set ``cell`` to ``value``; a text is always a string cell, never a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = TYPE_STRING  # openpyxl makes any text starting with "=" a formula
        if value.startswith(FORMULA_LEADS):
            cell.quotePrefix = True  # and Excel keeps it text when the cell is edited


def _sheet_title(title: str) -> str:
    """Excel's rules for sheet names: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'")
    return (cleaned or "Sheet")[:31]
