"""The year's outcome of a town's 三好创争 written into the appraisal records, in the step that makes
its awards final: the panel's result as ledger rows (``GET /scores``, the rankings) and the awards
and 躺平奖 as award rows (``GET /awards``), which the unit's and each person's archives show.

The process scores on 0–10 sheets (its forms say so) with its own dimension keys; the records use
the shipped schemes 四强, 四高 and 四优 on 0–100, so each value is scaled by ten and each key mapped to
the scheme's. The total is the process's own (the one its ranking and quotas used), scaled alike.
"""

from __future__ import annotations

from typing import Any

from ..appraisal.tables import Award
from ..runtime.step import Step
from ..tables import Instance, ScoreEntry

FINALISE = "finalise_awards"
TO_RECORDS = 10.0  # a 0–10 sheet value on the schemes' 0–100 scale
SCHEMES = {  # the process's award kind -> (the shipped scheme, its dimension keys by the process's)
    "好班子": (
        "四强",
        {"leading": "leading", "cohesion": "cohesion", "fighting": "fighting", "credibility": "credibility"},
    ),
    "好班长": (
        "四高",
        {
            "political_stance": "political",
            "command": "command",
            "responsibility": "duty",
            "development": "development",
        },
    ),
    "好班副": (
        "四优",
        {
            "political_quality": "quality",
            "execution": "execution",
            "pioneering": "pioneering",
            "expertise": "expertise",
        },
    ),
}


def record_year(step: Step, row: Instance) -> None:
    """Write the town's result, awards and 躺平奖 (once: the step that finalised them)."""
    s, data = step.session, row.data or {}
    period = str(data.get("year") or "")
    for entry in data.get("panel_result") or []:
        scheme, keys = SCHEMES.get(str(entry.get("kind")), (None, {}))
        if scheme is None:
            continue
        kind, subject = str(entry["subject_kind"]), str(entry["subject"])
        reason = f"三好创争 {entry['kind']} 第{entry.get('rank', '—')}名"
        values: list[tuple[str | None, Any]] = [
            (keys.get(k, k), v) for k, v in sorted((entry.get("dimensions") or {}).items())
        ]
        values.append((None, entry.get("total")))
        for dimension, value in values:
            s.add(
                ScoreEntry(
                    period=period,
                    username=subject if kind == "person" else None,
                    subject_kind=kind,
                    subject=subject,
                    dimension=dimension,
                    scheme=scheme,
                    points=round(float(value) * TO_RECORDS, 2),
                    instance_id=row.id,
                    reason=reason,
                    awarded_at=step.now,
                    tenant=row.tenant,
                )
            )
    for award in [*(data.get("awards") or []), *(data.get("negative_awards") or [])]:
        s.add(
            Award(
                tenant=row.tenant,
                kind=str(award["kind"]),
                subject_kind=str(award.get("subject_kind") or _kind_of(data, award)),
                subject=str(award["subject"]),
                period=str(award.get("period") or period),
                reason=str(award.get("reason") or ""),
                rank=_rank_of(data, award),
                instance_id=row.id,
                given_at=step.now,
                given_by=step.actor,
            )
        )


def _kind_of(data: dict[str, Any], award: dict[str, Any]) -> str:
    """Unit for a 好班子, person otherwise (as its result entry says)."""
    for entry in data.get("panel_result") or []:
        if entry.get("subject") == award.get("subject"):
            return str(entry.get("subject_kind") or "person")
    return "person"


def _rank_of(data: dict[str, Any], award: dict[str, Any]) -> int | None:
    for entry in data.get("panel_result") or []:
        if entry.get("kind") == award.get("kind") and entry.get("subject") == award.get("subject"):
            rank = entry.get("rank")
            return int(rank) if isinstance(rank, int) else None
    return None
