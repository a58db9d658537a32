"""A person's growth archive (成长档案): what they claimed, reported, had accepted, scored, were
recommended for and how the 考评组 judged their items, across instances and campaigns, oldest first.

Read from the tenant's claim-and-evaluate instances (their data: claims, claimant, acceptance,
year-end verdict, recommendations), the audit of the tasks the person completed, and the score
ledger, and the person's front-line record (``frontline.entries_of``). Visible to the person
themself, their unit leaders and the organisation department (``rules.reads_archive_of``); to
anyone else, as across tenants, the person is unknown (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import appraisal, rules
from ..errors import NotFoundError
from ..frontline import entries_of
from ..tables import AuditEvent, Instance, ScoreEntry, User
from ..vocabulary import Event
from .records import ArchiveEntry
from .results import recommendations
from .service import instant
from .tables import Campaign, CampaignProblem

REPORT_TASKS = {"progress_report": "进度汇报", "completion_report": "完成报告"}
VERDICT_WORDS = {"solved": "破题", "unsolved": "未破题", "carry_over": "结转"}
GRADE_WORDS = {"excellent": "优秀", "good": "良好", "pass": "合格"}


def archive(s: Session, username: str, viewer: str) -> list[ArchiveEntry]:
    person = s.scalar(select(User).where(User.username == username))
    actor = rules.actor_of(s, viewer)
    if (
        person is None
        or not rules.in_tenant(actor, person.tenant)
        or not rules.reads_archive_of(s, actor, username)
    ):
        raise NotFoundError(f"no person {username}")
    instances = s.execute(
        select(Instance, CampaignProblem.number, Campaign.id, Campaign.title)
        .outerjoin(CampaignProblem, CampaignProblem.instance_id == Instance.id)
        .outerjoin(Campaign, Campaign.id == CampaignProblem.campaign_id)
        .where(Instance.tenant == person.tenant if person.tenant is not None else Instance.tenant.is_(None))
        .order_by(Instance.created_at)
    ).all()
    where = {row.id: (number, cid, ctitle) for row, number, cid, ctitle in instances}
    out: list[ArchiveEntry] = []
    for row, number, cid, ctitle in instances:
        out.extend(_from_data(row, username, number, cid, ctitle or ""))
    out.extend(_reports(s, username, where, {row.id: row for row, *_ in instances}))
    for entry in s.scalars(
        select(ScoreEntry)
        .where(ScoreEntry.username == username, ScoreEntry.scheme.is_(None))
        .order_by(ScoreEntry.awarded_at)
    ):
        if entry.instance_id in where:
            _, cid, ctitle = where[entry.instance_id]
            out.append(
                ArchiveEntry(
                    entry.awarded_at,
                    "score",
                    entry.instance_id,
                    entry.reason,
                    f"{entry.period} 加分",
                    cid,
                    ctitle or "",
                    entry.points,
                )  # fmt: skip
            )
    out.extend(
        ArchiveEntry(e.at, e.kind, e.instance_id or "", e.title, e.detail, points=e.points)
        for e in appraisal.entries(s, person.tenant, "person", username)
    )
    for e in entries_of(s, username, person.tenant):  # 五个一线: nomination to appraisal
        out.append(ArchiveEntry(e.at, f"frontline_{e.kind}", e.instance_id, "五个一线", e.detail))
    return sorted(out, key=lambda e: (e.at is None, e.at or datetime.min))


def _from_data(
    row: Instance, username: str, number: int | None, cid: int | None, ctitle: str
) -> list[ArchiveEntry]:
    data = row.data or {}
    title = str(data.get("title") or "")
    out = []
    for claim in data.get("claims") or []:
        if isinstance(claim, dict) and username in _people(claim):
            role = "挂帅" if claim.get("leader") == username else "团队成员"
            out.append(
                ArchiveEntry(
                    instant(claim.get("filed_at")), "claim", row.id, title, f"揭榜（{role}）", cid, ctitle
                )
            )
    claimant = data.get("claimant") if isinstance(data.get("claimant"), dict) else None
    if claimant is not None and username in _people(claimant):
        if data.get("phase") == "accepted":
            grade = GRADE_WORDS.get(str(data.get("grade")), str(data.get("grade") or ""))
            out.append(
                ArchiveEntry(
                    instant(data.get("accepted_at")),
                    "acceptance",
                    row.id,
                    title,
                    f"验收通过（{grade}）",
                    cid,
                    ctitle,
                )
            )
        year_end = data.get("year_end") if isinstance(data.get("year_end"), dict) else None
        if year_end is not None:
            word = VERDICT_WORDS.get(str(year_end.get("verdict")), "")
            out.append(
                ArchiveEntry(
                    instant(year_end.get("assessed_at")),
                    "assessment",
                    row.id,
                    title,
                    f"年终考评：{word}",
                    cid,
                    ctitle,
                )
            )
    for rec in recommendations(row, number):
        if rec.username == username:
            out.append(
                ArchiveEntry(
                    rec.at, "recommendation", row.id, title, f"{rec.kind}：{rec.reason}", cid, ctitle
                )
            )
    return out  # fmt: skip


def _people(claim: dict[str, Any]) -> set[str]:
    names = [
        claim.get("leader"),
        *(m.get("username") for m in claim.get("members") or [] if isinstance(m, dict)),
    ]
    return {n for n in names if isinstance(n, str)}


def _reports(
    s: Session, username: str, where: dict[str, Any], rows: dict[str, Instance]
) -> list[ArchiveEntry]:
    out = []
    for event in s.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.actor == username,
            AuditEvent.event == Event.TASK_COMPLETE,
            AuditEvent.element_id.in_(sorted(REPORT_TASKS)),
        )
        .order_by(AuditEvent.id)
    ):
        if event.instance_id not in where:
            continue
        _, cid, ctitle = where[event.instance_id]
        title = str((rows[event.instance_id].data or {}).get("title") or "")
        out.append(
            ArchiveEntry(
                event.at,
                "report",
                event.instance_id,
                title,
                REPORT_TASKS[event.element_id or ""],
                cid,
                ctitle or "",
            )  # fmt: skip
        )
    return out
