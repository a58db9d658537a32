"""A person-by-person walk through claim-and-evaluate, driven through the Engine façade.

``Walk(make_engine, clock, fresh=True)`` builds a new Engine object for every step, so the
scenario proves that state comes only from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from engine import Engine, InstanceRecord, ManualClock
from engine.runtime.clock import iso

PEOPLE = {
    "wang": ([], "王科长"),
    "zhao": (["taskforce"], "赵专班"),
    "sun": (["committee"], "孙书记"),
    "qian": (["evaluator"], "钱考评"),
    "zhangjie": ([], "张杰"),
    "li": ([], "李明"),
    "zhou": ([], "周强"),
}

PROBLEM = {
    "title": "康渝高铁征迁外围协调保障",
    "category": "经济建设",
    "description": "福滩村征迁矛盾多，谈判屡次不欢而散。",
    "goals": "三个月内完成征迁协议签订",
    "proposed_deadline": "2026-06-30T00:00:00+08:00",
    "proposed_points": 80,
    "support_needed": "法律顾问一名",
}


class Walk:
    def __init__(
        self, make_engine: Callable[..., Engine], clock: ManualClock, *, fresh: bool = False
    ) -> None:
        self._make = make_engine
        self._engine = make_engine()
        self.clock = clock
        self.fresh = fresh
        self.instance_id: str | None = None
        for username, (groups, name) in PEOPLE.items():
            self._engine.upsert_user(username, display_name=name, groups=groups)

    @property
    def engine(self) -> Engine:
        if self.fresh:
            self._engine.store.dispose()  # the last step's engine is done with: give its connection back
            self._engine = self._make()
        return self._engine

    # -- reading -----------------------------------------------------------------------------
    def instance(self) -> InstanceRecord:
        return self.engine.get_instance(self.instance_id)

    def open_task(self, element_id: str):
        tasks = [t for t in self.instance().open_tasks if t.element_id == element_id]
        assert tasks, f"no open {element_id}; open: {[t.element_id for t in self.instance().open_tasks]}"
        return tasks[0]

    def open_elements(self) -> list[str]:
        return sorted(t.element_id for t in self.instance().open_tasks)

    def data(self) -> dict[str, Any]:
        return self.instance().data

    # -- acting ------------------------------------------------------------------------------
    def do(self, element_id: str, user: str, data: dict[str, Any]) -> InstanceRecord:
        task = self.open_task(element_id)
        return self.engine.complete(task.id, user, data)

    def submit(self, **overrides: Any) -> InstanceRecord:
        inst = self.engine.start(
            "claim_evaluate", actor="wang", business_key=overrides.pop("business_key", "P-2026-001")
        )
        self.instance_id = inst.id
        return self.do("submit_problem", "wang", {**PROBLEM, **overrides})

    def review(self, decision: str = "approve", comment: str = "符合条件") -> InstanceRecord:
        return self.do("preliminary_review", "zhao", {"decision": decision, "comment": comment})

    def approve(self, **overrides: Any) -> InstanceRecord:
        deadline = iso(self.clock.now() + timedelta(days=120))
        form = {
            "decision": "approve",
            "points": 100,
            "deadline": deadline,
            "claim_window": "P14D",
            "report_interval": "P30D",
            "milestones": ["摸排", "谈判", "签约"],
            "guarantees": "镇财政保障工作经费",
        }
        return self.do("committee_approval", "sun", {**form, **overrides})

    def publish(self) -> InstanceRecord:
        self.submit()
        self.review()
        return self.approve()

    def claim_individual(self, user: str = "zhou") -> dict[str, Any]:
        return self.engine.file_claim(
            self.instance_id, user, {"kind": "individual", "plan": "逐户走访", "pledge": "不完成不收兵"}
        )

    def claim_team(
        self, leader: str = "zhangjie", partner: str = "li", shares: tuple[int, int] = (60, 40)
    ) -> dict[str, Any]:
        members = [{"username": leader, "share": shares[0]}, {"username": partner, "share": shares[1]}]
        return self.engine.file_claim(
            self.instance_id,
            leader,
            {"kind": "team", "members": members, "plan": "组建专班", "pledge": "三个月签约"},
        )

    def pass_days(self, days: float) -> int:
        """Move the clock and let a worker fire what fell due."""
        self.clock.advance(days=days)
        return self.engine.run_due_jobs()

    def close_claim_window(self) -> None:
        self.pass_days(15)

    def report(self, percent: int = 50, status: str = "on_track", final: bool = False) -> InstanceRecord:
        return self.do(
            "progress_report",
            self.data()["claimant_leader"],
            {
                "progress_percent": percent,
                "summary": f"完成 {percent}%",
                "status_self": status,
                "final": final,
            },
        )

    def finish_supervision(self) -> InstanceRecord:
        self.report(100, final=True)
        return self.do(
            "completion_report",
            self.data()["claimant_leader"],
            {"summary": "征迁协议全部签订", "results": "37 户签约", "evidence_links": []},
        )

    def accept(self, decision: str = "pass", grade: str = "good", **extra: Any) -> InstanceRecord:
        form = {"decision": decision, **({"grade": grade} if decision == "pass" else {}), **extra}
        return self.do("acceptance", "qian", form)

    def events(self) -> list[str]:
        return [e.event for e in self.engine.history(self.instance_id)]
