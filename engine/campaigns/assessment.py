"""The year-end assessment (年终考评) of a campaign's items, and what the verdicts feed.

Each assessment is a task in the item's own instance: the shipped diagram holds a
non-interrupting message event subprocess, ``year_end``, whose start event catches the message
``year_end_assessment`` and opens the 考评组's ``year_end_assessment`` task beside whatever the
item is doing (its reports go on). Only the engine sends that message (``open_item``), after its
checks; nothing waits for it in the subscription index, so ``POST /messages`` cannot open it.

SpiffWorkflow starts an event subprocess from the process's root data, and keeps what it writes
to itself. Two runner hooks give it the BPMN meaning (an event subprocess sees its process's
data): a new assessment task starts from the item's data as it stands (``seed``), and the verdict
the diagram's ``record_year_end`` script writes (``year_end``) is copied into the item's live
tasks when the assessment closes (``share_verdict``), so it is instance data from then on.

Items already finished are not opened: their acceptance was the 考评组's verdict. An accepted
item counts as solved (破题), a failed one (验收不通过, 终止) as unsolved (未破题); a rejected or
cancelled one never ran and has no verdict (``verdict_of``).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ScriptError
from ..runtime.runner import StepContext, message_event
from ..runtime.step import Step, Steps
from ..tables import HumanTask, Instance
from ..vocabulary import Event
from .tables import CampaignProblem

ASSESS_MESSAGE = "year_end_assessment"
ASSESS_TASK = "year_end_assessment"
ASSESS_SUBPROCESS = "year_end"
VERDICTS = ("solved", "unsolved", "carry_over")
CARRIED = ("unsolved", "carry_over")  # what carry-over brings into the next campaign


def install(steps: Steps) -> None:
    steps.engine_messages.add(ASSESS_MESSAGE)
    steps.runner.task_hooks.append(seed)
    steps.runner.close_hooks.append(share_verdict)


def verdict_of(data: dict[str, Any]) -> str | None:
    """An item's verdict: the 考评组's, or what its finished acceptance says, or None."""
    year_end = data.get("year_end")
    if isinstance(year_end, dict) and year_end.get("verdict") in VERDICTS:
        return str(year_end["verdict"])
    if data.get("phase") == "accepted":
        return "solved"
    if data.get("phase") == "failed":
        return "unsolved"
    return None


def open_item(step: Step, campaign_id: int, instance_id: str, number: int) -> bool:
    """Open the assessment task in one running item; False when it is finished, already assessed
    or already has its assessment open (so opening twice opens nothing twice)."""
    row = step.lock_instance(instance_id)
    if row.status != "running" or verdict_of(row.data or {}) is not None:
        return False
    already = step.session.scalar(
        select(HumanTask.id).where(
            HumanTask.instance_id == instance_id,
            HumanTask.element_id == ASSESS_TASK,
            HumanTask.status.in_(("open", "waiting")),
        )
    )
    if already is not None:
        return False
    ctx = step.advance(row, lambda wf: wf.send_event(message_event(ASSESS_MESSAGE, {})))
    if ctx.error is not None:  # the diagram failed: nothing of this item's step stays
        raise (
            ctx.error
            if isinstance(ctx.error, ScriptError)
            else ScriptError(f"the diagram failed: {ctx.error}")
        )
    step.record(
        Event.CAMPAIGN_ASSESSMENT_OPENED,
        actor=step.actor,
        instance_id=row.id,
        data={"campaign": campaign_id, "number": number},
    )
    return True


def running_items(s: Session, campaign_id: int) -> list[tuple[str, int]]:
    """The campaign's items whose instance still runs, by number: (instance id, number)."""
    return [
        (i, n)
        for i, n in s.execute(
            select(CampaignProblem.instance_id, CampaignProblem.number)
            .join(Instance, Instance.id == CampaignProblem.instance_id)
            .where(CampaignProblem.campaign_id == campaign_id, Instance.status == "running")
            .order_by(CampaignProblem.number)
        )
    ]


# ---- the runner hooks ---------------------------------------------------------------------------
def seed(session: Session, ctx: StepContext, ht: HumanTask, task: Any) -> None:
    """A new assessment task starts from the item's data as it stands, with an empty verdict."""
    if ht.element_id != ASSESS_TASK:
        return
    data = {**ctx.data_before, **_live_data(ctx.workflow, exclude=task)}
    data.pop("verdict", None)
    data["comment"] = ""  # the form's comment is the 考评组's own, never an earlier one
    task.data = data


def share_verdict(session: Session, ctx: StepContext, closed: list[tuple[Any, str]]) -> None:
    """When an assessment completes, its ``year_end`` becomes data of the item's live tasks."""
    if not any(t.task_spec.bpmn_id == ASSESS_TASK and status == "completed" for t, status in closed):
        return
    done = [
        t
        for t in ctx.workflow.get_tasks(state=TaskState.COMPLETED)
        if t.task_spec.bpmn_id == ASSESS_SUBPROCESS and isinstance(t.data.get("year_end"), dict)
    ]
    if not done:
        return
    verdict = max(done, key=lambda t: t.last_state_change).data["year_end"]
    for task in ctx.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED):
        task.data["year_end"] = verdict


def _live_data(wf: Any, *, exclude: Any) -> dict[str, Any]:
    """The newest data of the item's own live tasks (not of the assessment)."""
    live = [
        t
        for t in wf.get_tasks(state=TaskState.READY | TaskState.WAITING)
        if t is not exclude and t.task_spec.bpmn_id not in (ASSESS_TASK, ASSESS_SUBPROCESS)
    ]
    return dict(max(live, key=lambda t: t.last_state_change).data) if live else {}
