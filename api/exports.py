"""Excel workbooks the API and the pages serve, written by one function so no export can forget
that a cell's text comes from users; the month's scores, a campaign's list template and its
statistics are one workbook each, whichever door (REST or page) they leave by.

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
from openpyxl.worksheet.datavalidation import DataValidation

from engine import FRONT_LINES, FRONTLINE_WORDS, CampaignRecord

from .extension import get_engine

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What spreadsheet programs treat as the start of a formula (OWASP's list, plus CR and LF).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]]]

LEDGER_HEADER = ("username", "points", "instance_id", "reason", "awarded_at")
LEADERBOARD_HEADER = ("rank", "username", "display_name", "points")
TEMPLATE_HEADERS = ("编号", "类别", "题目", "问题描述", "目标", "牵头单位", "时限", "分值")
STATS_HEADERS = {"category": "类别", "unit": "牵头单位", "rank": "职级", "status": "状态", "month": "月份"}
STATS_COLUMNS = ("问题数", "已揭榜", "已破题", "逾期", "参与人数")


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


def campaign_template_download(campaign_id: int, *, viewer: str) -> Response:
    """The .xlsx template of a campaign's problem list (404 for a campaign ``viewer`` does not see)."""
    campaign = get_engine().get_campaign(campaign_id, viewer)
    return _download(_campaign_template(campaign), f"campaign-{campaign.id}-template.xlsx")


def campaign_stats_download(campaign_id: int, by: str, *, viewer: str) -> Response:
    """A campaign's statistics grouped ``by`` category, unit, rank, status or month, Chinese headers."""
    rows = get_engine().campaign_stats(campaign_id, viewer, by)
    body = workbook(
        [
            (
                f"按{STATS_HEADERS[by]}统计",
                (STATS_HEADERS[by], *STATS_COLUMNS),
                ([r.key, r.problems, r.claimed, r.solved, r.overdue, r.people] for r in rows),
            )
        ]
    )
    return _download(body, f"campaign-{campaign_id}-stats-{by}.xlsx")


def _campaign_template(campaign: CampaignRecord) -> bytes:
    """Sheet 问题清单 (headers, one example row) and sheet 类别; 类别 cells pick from that list."""
    book = Workbook()
    sheet = book.active
    sheet.title = "问题清单"
    example = (1, campaign.categories[0], "示例：老旧小区雨污分流改造", "雨季积水严重，群众反映强烈。",
               "年底前完成改造并通过验收", campaign.organiser_unit, f"{campaign.year}-12-31", 10)  # fmt: skip
    for column, (header, value) in enumerate(zip(TEMPLATE_HEADERS, example, strict=True), start=1):
        write_cell(sheet.cell(row=1, column=column), header)
        write_cell(sheet.cell(row=2, column=column), value)
        sheet.column_dimensions[chr(64 + column)].width = 14 if column != 4 else 40
    kinds = book.create_sheet("类别")
    write_cell(kinds.cell(row=1, column=1), "类别")
    for row, name in enumerate(campaign.categories, start=2):
        write_cell(kinds.cell(row=row, column=1), name)
    choice = DataValidation(
        type="list",
        formula1=f"'类别'!$A$2:$A${len(campaign.categories) + 1}",
        allow_blank=False,
        showErrorMessage=True,
        errorTitle="类别无效",
        error="请从本批次的类别中选择",
    )
    sheet.add_data_validation(choice)
    choice.add("B2:B1001")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _download(body: bytes, name: str) -> Response:
    return Response(
        body, mimetype=XLSX_MIMETYPE, headers={"Content-Disposition": f'attachment; filename="{name}"'}
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


ARCHIVE_HEADERS = ("时间", "类型", "事项", "内容", "批次", "分值")
ARCHIVE_KINDS = {
    "claim": "揭榜",
    "report": "汇报",
    "acceptance": "验收",
    "assessment": "年终考评",
    "score": "加分",
    "recommendation": "推荐使用",
    "award": "奖项",
    "ranking": "测评排名",
    "bundled": "捆绑考核",
    **{f"frontline_{kind}": word for kind, word in FRONTLINE_WORDS.items()},
}


def archive_download(username: str, *, viewer: str) -> Response:
    """A person's growth archive (成长档案) as a workbook, oldest first, Chinese headers."""
    entries = get_engine().person_archive(username, viewer)
    rows = (
        [
            e.at.isoformat() if e.at else "",
            ARCHIVE_KINDS.get(e.kind, e.kind),
            e.title,
            e.detail,
            e.campaign_title,
            e.points,
        ]  # fmt: skip
        for e in entries
    )
    return _download(workbook([("成长档案", ARCHIVE_HEADERS, rows)]), f"archive-{username}.xlsx")


RANKING_HEADERS = ("名次", "对象", "总分")
AWARD_HEADERS = ("期间", "奖项", "对象类型", "对象", "名次", "理由", "授予时间")
SUBJECT_KIND_WORDS = {"person": "个人", "unit": "单位"}
UNIT_ARCHIVE_HEADERS = ("时间", "类型", "名称", "内容", "期间", "得分")


def ranking_download(scheme: str, period: str | None, subject_kind: str | None, *, viewer: str) -> Response:
    """A scheme's ranking of a period: rank, name, total, each dimension by name, the awards."""
    definition, period, rows = get_engine().ranking(viewer, scheme, period, subject_kind)
    dims = definition["dimensions"]
    header = (*RANKING_HEADERS, *(d["name"] for d in dims), "奖项")
    body = workbook(
        [
            (
                f"{definition['name']}排名",
                header,
                (
                    [
                        r.rank,
                        r.name,
                        r.total,
                        *(r.dimensions.get(d["key"]) for d in dims),
                        "、".join(r.awards),
                    ]
                    for r in rows
                ),
            )
        ]
    )
    return _download(body, f"ranking-{period}.xlsx")


def awards_download(period: str | None, kind: str | None, *, viewer: str) -> Response:
    """The awards given (of a period, of a kind) with their reasons, Chinese headers."""
    given = get_engine().awards(viewer, period, kind)
    rows = (
        [
            a.period,
            a.kind,
            SUBJECT_KIND_WORDS.get(a.subject_kind, a.subject_kind),
            a.name,
            a.rank,
            a.reason,
            a.given_at.isoformat(),
        ]  # fmt: skip
        for a in given
    )
    return _download(workbook([("奖项", AWARD_HEADERS, rows)]), f"awards-{period or 'all'}.xlsx")


def unit_archive_download(code: str, *, viewer: str) -> Response:
    """A unit's archive of rankings and awards, oldest first, Chinese headers."""
    name, lines = get_engine().unit_archive(code, viewer)
    rows = (
        [e.at.isoformat(), ARCHIVE_KINDS.get(e.kind, e.kind), e.title, e.detail, e.period, e.points]
        for e in lines
    )
    return _download(workbook([(f"{name}档案", UNIT_ARCHIVE_HEADERS, rows)]), f"unit-archive-{code}.xlsx")


DASHBOARD_HEADERS = (
    "一线",
    "岗位",
    "接收单位",
    "容量",
    "在岗",
    "空缺",
    "职级构成",
    "来源单位",
    "逾期任务",
    "正面清单",
    "负面清单",
)


def frontline_dashboard_download(*, viewer: str) -> Response:
    """The front-line dashboard (五个一线) as a workbook, one row per post, Chinese headers."""
    rows = (
        [
            FRONT_LINES.get(r.front_line, r.front_line),
            r.title,
            r.unit_name,
            r.capacity,
            r.filled,
            r.vacant,
            "、".join(f"{k or '—'} {v}" for k, v in sorted(r.by_rank.items())),
            "、".join(f"{k or '—'} {v}" for k, v in sorted(r.by_origin.items())),
            r.overdue,
            r.positive,
            r.negative,
        ]
        for r in get_engine().frontline_dashboard(viewer)
    )
    return _download(workbook([("五个一线", DASHBOARD_HEADERS, rows)]), "frontline-dashboard.xlsx")


PROBLEM_COLOURS = {"red": "红", "yellow": "黄", "green": "绿", None: "未分级"}
PROBLEM_HEADERS = (
    "分级",
    "问题",
    "村",
    "镇",
    "责任部门",
    "当前办理",
    "已立项（天）",
    "办理时限",
    "逾期",
    "报县指挥部",
    "退回次数",
)


def problem_list_download(viewer: str, args: dict[str, Any]) -> Response:
    """The red/yellow/green list with the page's filters, Chinese headers, red first."""
    rows = get_engine().problem_list(viewer, **args)
    body = workbook(
        [
            (
                "红黄绿问题清单",
                PROBLEM_HEADERS,
                (
                    [
                        PROBLEM_COLOURS.get(r.colour, "未分级"),
                        r.title,
                        r.village_name,
                        r.town_name,
                        r.department_name,
                        r.owner,
                        r.age_days,
                        r.due_at.strftime("%Y-%m-%d") if r.due_at else "",
                        "是" if r.overdue else "否",
                        "是" if r.escalated else "否",
                        r.returns,
                    ]
                    for r in rows
                ),
            )
        ]
    )
    return _download(body, "village-problems.xlsx")
