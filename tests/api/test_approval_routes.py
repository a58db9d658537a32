"""The approval routes of the contract: each one's happy path and its refusals, over HTTP."""

from __future__ import annotations

from tests.api.conftest import HttpWalk


def review_claimed(walk: HttpWalk) -> str:
    walk.submit()
    task = walk.task("preliminary_review")
    walk.call("POST", f"/tasks/{task['id']}/claim", "zhao")
    return task["id"]


def test_transfer_and_delegate(walk: HttpWalk) -> None:
    task_id = review_claimed(walk)
    walk.auth.user("zhao2", ["taskforce"])
    walk.call("POST", f"/tasks/{task_id}/transfer", "wang", 403, json={"to": "zhao2"})  # not a candidate
    walk.call(
        "POST", f"/tasks/{task_id}/transfer", "zhao2", 409, json={"to": "li"}
    )  # a candidate, but zhao holds it
    walk.call("POST", f"/tasks/{task_id}/transfer", "zhao", 422, json={"to": "nobody"})
    moved = walk.call("POST", f"/tasks/{task_id}/transfer", "zhao", json={"to": "zhao2", "comment": "请假"})
    assert moved["assignee"] == "zhao2"
    delegated = walk.call(
        "POST", f"/tasks/{task_id}/delegate", "zhao2", json={"to": "li", "comment": "请代审"}
    )
    assert (delegated["owner"], delegated["assignee"]) == ("zhao2", "li")
    walk.call(
        "POST",
        f"/tasks/{task_id}/complete",
        "li",
        json={"data": {"decision": "approve", "comment": "代审通过"}},
    )
    back = walk.call("GET", f"/tasks/{task_id}", "zhao2")
    assert (back["assignee"], back["status"], back["data"]["comment"]) == ("zhao2", "open", "代审通过")
    walk.call("POST", f"/tasks/{task_id}/complete", "zhao2", json={"data": {"decision": "approve"}})
    assert walk.task("committee_approval")


def test_add_and_remove_signers(walk: HttpWalk) -> None:
    task_id = review_claimed(walk)
    walk.call(
        "POST", f"/tasks/{task_id}/add-signers", "zhao", 422, json={"usernames": ["li"], "mode": "sideways"}
    )
    walk.call(
        "POST", f"/tasks/{task_id}/add-signers", "li", 403, json={"usernames": ["zhou"], "mode": "after"}
    )
    added = walk.call(
        "POST",
        f"/tasks/{task_id}/add-signers",
        "zhao",
        201,
        json={"usernames": ["li", "zhou"], "mode": "after"},
    )
    assert [s["assignee"] for s in added["items"]] == ["li", "zhou"]
    walk.call("DELETE", f"/tasks/{task_id}/signers/zhou", "li", 403)
    walk.call("DELETE", f"/tasks/{task_id}/signers/zhou", "zhao", 204)
    walk.call("DELETE", f"/tasks/{task_id}/signers/zhou", "zhao", 404)
    walk.call("POST", f"/tasks/{task_id}/complete", "zhao", json={"data": {"decision": "approve"}})
    li_sign = next(t for t in walk.instance()["open_tasks"] if t["assignee"] == "li")
    assert (li_sign["kind"], li_sign["parent_id"]) == ("sign", task_id)
    walk.call("POST", f"/tasks/{li_sign['id']}/complete", "li", json={"data": {"decision": "approve"}})
    assert walk.task("committee_approval")
    signers = walk.call("GET", f"/tasks/{task_id}/signers", "zhao")["items"]
    assert [(s["assignee"], s["status"]) for s in signers] == [("li", "completed"), ("zhou", "removed")]


def test_return_with_targets_and_withdraw(walk: HttpWalk) -> None:
    walk.submit()
    walk.call("POST", f"/process-instances/{walk.instance_id}/withdraw", "zhao", 403, json={})
    walk.call("POST", f"/process-instances/{walk.instance_id}/withdraw", "wang", json={"comment": "补材料"})
    assert walk.task("submit_problem")["returned"] is True
    walk.do(
        "submit_problem",
        "wang",
        walk.call("GET", f"/tasks/{walk.task('submit_problem')['id']}", "wang")["data"],
    )
    review = walk.task("preliminary_review")
    targets = walk.call("GET", f"/tasks/{review['id']}/return-targets", "zhao")["items"]
    assert [t["element_id"] for t in targets] == ["submit_problem"]
    walk.call(
        "POST",
        f"/tasks/{review['id']}/return",
        "zhao",
        422,
        json={"to_element_id": "acceptance", "comment": "x"},
    )
    walk.call("POST", f"/tasks/{review['id']}/return", "zhao", 422, json={})
    after = walk.call("POST", f"/tasks/{review['id']}/return", "zhao", json={"comment": "目标不清"})
    assert [t["element_id"] for t in after["open_tasks"]] == ["submit_problem"]
    walk.do(
        "submit_problem",
        "wang",
        walk.call("GET", f"/tasks/{walk.task('submit_problem')['id']}", "wang")["data"],
    )
    walk.call("POST", f"/tasks/{walk.task('preliminary_review')['id']}/claim", "zhao")
    walk.call("POST", f"/process-instances/{walk.instance_id}/withdraw", "wang", 409, json={})
    history = [
        e["event"]
        for e in walk.call("GET", f"/process-instances/{walk.instance_id}/history", "wang")["items"]
    ]
    assert "task.return" in history and "instance.withdraw" in history


def test_urge_is_rate_limited(walk: HttpWalk) -> None:
    walk.submit()
    review = walk.task("preliminary_review")
    walk.call("POST", f"/tasks/{review['id']}/urge", "li", 403, json={})
    walk.call("POST", f"/tasks/{review['id']}/urge", "wang", 202, json={"comment": "请尽快初审"})
    walk.call("POST", f"/tasks/{review['id']}/urge", "wang", 409, json={})


def test_cc_scope_and_read_marks(walk: HttpWalk) -> None:
    walk.submit()
    walk.call("POST", f"/process-instances/{walk.instance_id}/cc", "li", 403, json={"usernames": ["zhou"]})
    assert walk.call(
        "POST", f"/process-instances/{walk.instance_id}/cc", "wang", json={"usernames": ["zhou"]}
    ) == {"added": ["zhou"]}
    inbox = walk.call("GET", "/tasks?scope=cc", "zhou")
    assert inbox["total"] == 1
    item = inbox["items"][0]
    assert (item["instance_id"], item["status"], item["copied_by"]) == (walk.instance_id, "unread", "wang")
    walk.call("GET", f"/process-instances/{walk.instance_id}", "zhou")  # copied people may look
    walk.call("POST", f"/process-instances/{walk.instance_id}/cc/read", "zhou", 204)
    assert walk.call("GET", "/tasks?scope=cc", "zhou")["items"][0]["status"] == "read"


def test_people_not_involved_cannot_read_an_instance_or_its_tasks(walk: HttpWalk) -> None:
    walk.submit()
    review = walk.task("preliminary_review")
    walk.call("GET", f"/process-instances/{walk.instance_id}", "li", 403)
    walk.call("GET", f"/process-instances/{walk.instance_id}/history", "li", 403)
    walk.call("GET", f"/tasks/{review['id']}", "li", 403)
    walk.call("GET", f"/tasks/{review['id']}", "zhao")  # a candidate may
    walk.call("GET", f"/process-instances/{walk.instance_id}", "oa")  # the OA service account may
