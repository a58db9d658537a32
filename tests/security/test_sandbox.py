"""Hostile diagram code: escapes, resource bombs, data bombs and diagram faults.

Every attack here runs the way the server runs it: through ``make_script_engine`` (scripts and
costly expressions in the worker pool) or through a whole ``Engine`` step. Bombs are timed with
the wall clock, the server's memory is read from /proc/self/status, and a second thread shows
the server stays responsive while a bomb runs.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from engine import DefinitionInvalidError, Engine, InvalidInputError
from engine.errors import SandboxViolationError, ScriptError, ScriptTimeoutError, TaskDataError
from engine.sandbox.environment import make_script_engine
from engine.sandbox.guards import SAFE_BUILTINS
from engine.sandbox.helpers import HELPER_NAMES
from engine.sandbox.pool import ENGINE_DIR, WORKER_IMPORTS, pool
from engine.sandbox.restricted import cheap_expression

LIMIT = 1.0  # the diagrams' time limit in these tests
SLACK = 1.5  # a bomb must be stopped within LIMIT + SLACK seconds of wall time
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class FakeTask:
    """What the script engine needs of a Spiff task: data, an id and a spec."""

    def __init__(self, **data: Any) -> None:
        self.data = dict(data)
        self.id = "t-1"
        self.task_spec = None


@pytest.fixture
def sandbox() -> Any:
    return make_script_engine(lambda: T0, time_limit=LIMIT)


def rss_mib() -> float:
    """The server process's resident memory now (VmRSS), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class RssSampler:
    """Peak RSS of this process while a block runs, sampled every 10 ms from another thread."""

    def __enter__(self) -> RssSampler:
        self.start = rss_mib()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss_mib())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())

    @property
    def growth(self) -> float:
        return self.peak - self.start


def timed(fn: Callable[[], Any]) -> tuple[float, BaseException | None]:
    start = time.monotonic()
    try:
        fn()
    except BaseException as exc:  # the caller asserts on the class
        return time.monotonic() - start, exc
    return time.monotonic() - start, None


# ----------------------------------------------------------------------------- escapes
ESCAPE_SCRIPTS = [
    "import os\nos.system('id')",
    "from subprocess import run",
    "x = __import__('os').system('id')",
    "x = ().__class__.__bases__[0].__subclasses__()",
    "x = [c for c in ().__class__.__mro__[1].__subclasses__() if c.__name__ == 'Popen']",
    "def f():\n    pass\nx = f.__globals__",
    "def g():\n    yield 1\nx = g().gi_frame.f_back.f_globals",
    "x = '{0.__class__.__mro__}'.format(1)",
    "x = '{a.__init__.__globals__}'.format_map({'a': len})",
    "x = open('/etc/passwd').read()",
    "x = eval('1+1')",
    "x = exec('y = 1')",
    "x = getattr(len, '__self__')",
    "x = type(len)",
    "x = vars()",
    "x = globals()",
    "x = compile('1', 'f', 'eval')",
    "x = len.__self__.open",
    "x = [].__class__",
    "x = now.__globals__",
    "x = _getattr_",
    "class A:\n    pass",
    "try:\n    x = 1\nexcept:\n    pass",
]


@pytest.mark.parametrize("script", ESCAPE_SCRIPTS)
def test_escapes_in_scripts_are_refused(sandbox: Any, script: str) -> None:
    task = FakeTask(a=1)
    with pytest.raises(ScriptError) as caught:
        sandbox.execute(task, script)
    assert isinstance(caught.value, SandboxViolationError | ScriptError)
    assert task.data == {"a": 1}  # a refused script changes nothing


ESCAPE_EXPRESSIONS = [
    "__import__('os').system('id') == 0",
    "().__class__.__bases__[0].__subclasses__()",
    "'{0.__class__}'.format(1)",
    "open('/etc/hostname').read()",
    "getattr(x, '__class__')",
    "type(x)",
    "[c for c in x.__class__.__mro__]",
    "(lambda: 1)()",
    "now.__globals__",
    "x.__class__ == 1",
]


@pytest.mark.parametrize("expression", ESCAPE_EXPRESSIONS)
def test_escapes_in_expressions_are_refused(sandbox: Any, expression: str) -> None:
    with pytest.raises(SandboxViolationError):
        sandbox.evaluate(FakeTask(x=1), expression)


def test_the_worker_has_no_secrets_files_or_children(sandbox: Any) -> None:
    """Even a sandbox slip would find an empty environment, no file descriptors to spare, no fork."""
    import resource

    task = FakeTask()
    sandbox.execute(task, "x = 1")
    pids = pool().pids()
    assert pids and all(pid != __import__("os").getpid() for pid in pids)
    for pid in pids:
        with open(f"/proc/{pid}/environ", "rb") as env:
            names = {item.split(b"=", 1)[0] for item in env.read().split(b"\0") if item}
        assert names <= {b"PATH", b"LC_ALL"}
        deadline = time.monotonic() + 20  # a replacement worker may still be starting up
        while True:
            with open(f"/proc/{pid}/limits") as limits:
                text = limits.read()
            if "Max open files            16" in text or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert "Max open files            16" in text
        assert "Max address space" in text and "unlimited" not in next(
            line for line in text.splitlines() if line.startswith("Max address space")
        )
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] > 16  # the server's own limits are untouched


# ----------------------------------------------------------------------------- resource bombs
BOMBS = [
    (
        "C-level comparison of 900 x 10 million items",
        "a = [0] * 10**7\nb = [0] * 10**7\nr = [a] * 900 == [b] * 900",
    ),
    ("sort of ten million numbers by their text", "r = sorted(list(range(100000)) * 100, key=str)"),
    ("endless loop", "while True:\n    pass"),
    (
        "endless loop swallowing exceptions",
        "while True:\n    try:\n        x = 1\n    except Exception:\n        pass",
    ),
    ("runaway recursion", "def f(n):\n    return f(n - 1) + f(n - 1) if n else 1\nx = f(60)"),
]


@pytest.mark.parametrize(("what", "script"), BOMBS, ids=[b[0] for b in BOMBS])
def test_script_bombs_are_stopped_within_the_time_limit(sandbox: Any, what: str, script: str) -> None:
    elapsed, error = timed(lambda: sandbox.execute(FakeTask(), script))
    assert isinstance(error, ScriptError), f"{what}: not stopped ({error!r})"
    assert elapsed < LIMIT + SLACK, f"{what}: stopped after {elapsed:.2f}s"


DIAGRAM_CALLABLES = sorted(
    name
    for name, fn in {**SAFE_BUILTINS, **{h: None for h in HELPER_NAMES}}.items()
    if name not in ("True", "False", "None")
)


@pytest.mark.parametrize("name", DIAGRAM_CALLABLES)
def test_every_function_a_diagram_may_call_is_bounded_on_ten_million_items(sandbox: Any, name: str) -> None:
    """Each builtin and helper (a new one is covered by default) on a 10-million-item list: refused,
    failed or finished, but within the time limit and without growing the server."""
    script = f"big = list(range(100000)) * 100\nx = {name}(big)\ny = {name}(big, big)\nz = {name}(*big)"
    with RssSampler() as rss:
        elapsed, _ = timed(lambda: sandbox.execute(FakeTask(), script))
    assert elapsed < LIMIT + SLACK, f"{name}: {elapsed:.2f}s"
    assert rss.growth < 50, f"{name}: the server grew by {rss.growth:.0f} MiB"


def test_a_gateway_condition_bomb_is_stopped_within_the_time_limit(sandbox: Any) -> None:
    condition = "[[0]*100000]*30000 == [[0]*100000]*30000"
    assert not cheap_expression(condition)
    elapsed, error = timed(lambda: sandbox.evaluate(FakeTask(), condition))
    assert isinstance(error, ScriptError)
    assert elapsed < LIMIT + SLACK, f"stopped after {elapsed:.2f}s"


def test_the_server_stays_responsive_while_a_bomb_holds_a_worker(sandbox: Any) -> None:
    """Another thread's work is not held up by a C-level bomb: the bomb runs in another process."""
    bomb = BOMBS[0][1]
    done = threading.Event()
    outcome: list[BaseException | None] = []

    def run_bomb() -> None:
        outcome.append(timed(lambda: sandbox.execute(FakeTask(), bomb))[1])
        done.set()

    thread = threading.Thread(target=run_bomb)
    thread.start()
    time.sleep(0.2)  # the bomb is under way
    latencies = []
    while not done.is_set():
        start = time.monotonic()
        sum(i * i for i in range(20_000))  # a request's worth of Python work, holding the GIL
        latencies.append(time.monotonic() - start)
        time.sleep(0.01)
    thread.join()
    assert isinstance(outcome[0], ScriptTimeoutError)
    assert len(latencies) > 20
    assert max(latencies) < 0.25, (
        f"worst latency {max(latencies):.3f}s, median {statistics.median(latencies):.4f}s"
    )


def test_a_killed_worker_is_replaced_and_the_next_script_runs(sandbox: Any) -> None:
    sandbox.execute(FakeTask(), "x = 1")
    before = pool().pids()
    with pytest.raises(ScriptTimeoutError):
        sandbox.execute(FakeTask(), BOMBS[0][1])
    deadline = time.monotonic() + 10  # the replacement is started off the caller's time
    while (after := pool().pids()) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(after) == len(before) and after != before
    task = FakeTask(a=2)
    sandbox.execute(task, "b = a * 21")
    assert task.data == {"a": 2, "b": 42}


MEMORY_BOMBS = [
    ("list of lists", "x = [[0] * 10**7 for i in range(40)]"),
    ("doubling string", "s = 'a' * 10**7\nparts = []\nwhile True:\n    parts.append(s + str(len(parts)))"),
    ("dict of big strings", "d = {}\nfor i in range(400):\n    d[i] = 'x' * 10**7"),
]


@pytest.mark.parametrize(("what", "script"), MEMORY_BOMBS, ids=[b[0] for b in MEMORY_BOMBS])
def test_memory_bombs_leave_the_server_memory_bounded(sandbox: Any, what: str, script: str) -> None:
    sandbox.execute(FakeTask(), "x = 1")  # the pool is up before measuring
    with RssSampler() as rss:
        elapsed, error = timed(lambda: sandbox.execute(FakeTask(), script))
    assert isinstance(error, ScriptError), f"{what}: not stopped"
    assert elapsed < LIMIT + SLACK
    assert rss.growth < 50, f"{what}: the server grew by {rss.growth:.0f} MiB"


def test_the_three_gigabyte_serializer_bomb_is_refused_naming_the_variable(sandbox: Any) -> None:
    """3,000 references to one 1 MB string: tiny in memory, ~3 GB as JSON."""
    task = FakeTask(a=1)
    with RssSampler() as rss:
        elapsed, error = timed(lambda: sandbox.execute(task, "s = 'a' * 10**6\ny = [s] * 3000"))
    assert isinstance(error, TaskDataError)
    assert "'y'" in str(error) and "too big" in str(error)
    assert task.data == {"a": 1}
    assert elapsed < LIMIT + SLACK
    assert rss.growth < 50, f"the server grew by {rss.growth:.0f} MiB"


@pytest.mark.parametrize(
    ("script", "variable", "kind"),
    [
        ("r = range(3)", "r", "range"),
        ("g = (i for i in [1, 2])", "g", "generator"),
        ("s = {1, 2}", "s", "set"),
        ("f = [len]", "f", "builtin_function_or_method"),
        ("b = b'bytes'", "b", "bytes"),
        ("n = {'deep': {1: 'x'}}", "n", "int key"),
        ("z = float('nan')", "z", "non-finite"),
        ("c = []\nc.append(c)", "c", "contains itself"),
    ],
)
def test_values_that_are_not_json_data_are_refused_naming_the_variable(
    sandbox: Any, script: str, variable: str, kind: str
) -> None:
    with pytest.raises(TaskDataError) as caught:
        sandbox.execute(FakeTask(), script)
    assert f"'{variable}'" in str(caught.value) and kind in str(caught.value)


def test_an_expression_cannot_return_a_huge_or_non_json_value(sandbox: Any) -> None:
    with pytest.raises(TaskDataError):
        sandbox.evaluate(FakeTask(s="a" * 1000), "[s] * 5000")
    with pytest.raises(TaskDataError, match="range"):
        sandbox.evaluate(FakeTask(), "range(3)")


# ----------------------------------------------------------------------------- what stays in-process
@pytest.mark.parametrize(
    "expression",
    [
        'decision == "approve"',
        "points >= 60 and grade in ('good', 'excellent')",
        "not late and len(claims) > 0",
        "score - penalty >= 60",
        "claims[0] == 'zhou'",
        "claim_deadline",
        '"P14D"',
        "dmninputexpr > 0.5",
    ],
)
def test_plain_conditions_stay_in_process(expression: str) -> None:
    assert cheap_expression(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "[0] * 10",
        "x ** 2",
        "[i for i in x]",
        "sorted(x)",
        "x.lower() == 'a'",
        "f'{x}'",
        "x[1:]",
        "sum(x)",
        "max(x)",
        "str(x)",
        "len(x * 3)",
        "x[y * 2]",
    ],
)
def test_anything_that_can_multiply_loop_or_call_runs_in_a_worker(expression: str) -> None:
    assert not cheap_expression(expression)


def test_plain_conditions_stay_fast(sandbox: Any) -> None:
    """No worker round trip for a gateway's plain condition: the median stays well under a millisecond."""
    task = FakeTask(decision="approve", points=70, grade="good")
    times = []
    for _ in range(200):
        start = time.perf_counter()
        assert sandbox.evaluate(task, "points >= 60 and grade in ('good', 'excellent')")
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.001


# ----------------------------------------------------------------------------- through the engine
SPIFF = 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'


START_VARIABLES = "keep,huge,notes,wait_for,how_many,members"  # what these tests' instances start with


def diagram(process_id: str, body: str, first: str = "step") -> bytes:
    """start -> ``first`` ... ``step`` -> user task 'after' -> end, around ``body``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" {SPIFF} id="defs_{process_id}"
    targetNamespace="http://example.org/jiebang">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="startVariables" value="{START_VARIABLES}"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    {body}
    <bpmn:userTask id="after" name="After"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{first}"/>
    <bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="after"/>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def script_diagram(process_id: str, script: str) -> bytes:
    return diagram(
        process_id,
        f"""<bpmn:scriptTask id="step" name="Step" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script><![CDATA[{script}]]></bpmn:script></bpmn:scriptTask>""",
    )


def timer_diagram(process_id: str, kind: str, value: str) -> bytes:
    return diagram(
        process_id,
        f"""<bpmn:intermediateCatchEvent id="step">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>""",
    )


@pytest.fixture
def small_engine(make_engine: Callable[..., Engine]) -> Iterator[Engine]:
    yield make_engine(deploy_shipped=False, script_time_limit=LIMIT, max_data_bytes=100_000)


def assert_recorded_failure(engine: Engine, instance_id: str, *words: str) -> None:
    """The instance is in error with a clear message, and the audit trail says so."""
    inst = engine.get_instance(instance_id)
    assert inst.status == "error"
    for word in words:
        assert word in (inst.error or ""), inst.error
    errors = [e for e in engine.history(instance_id) if e.event == "instance.error"]
    assert errors and errors[-1].element_id == "step"


def test_a_bomb_in_a_deployed_diagram_ends_the_instance_in_error_quickly(small_engine: Engine) -> None:
    small_engine.deploy({"bomb.bpmn": script_diagram("bomb", BOMBS[0][1])}, actor="admin")
    elapsed, error = timed(lambda: small_engine.start("bomb", actor="wang"))
    assert error is None
    assert elapsed < LIMIT + SLACK + 1.0  # plus the start's own transaction
    inst = small_engine.list_instances(process_key="bomb").items[0]
    assert_recorded_failure(small_engine, inst.id, "ScriptTimeoutError", "stopped")


def test_engine_reads_stay_fast_while_another_thread_runs_a_bomb(small_engine: Engine) -> None:
    small_engine.deploy({"bomb.bpmn": script_diagram("bomb", BOMBS[0][1])}, actor="admin")
    small_engine.upsert_user("wang")
    done = threading.Event()
    thread = threading.Thread(target=lambda: (small_engine.start("bomb", actor="wang"), done.set()))
    thread.start()
    time.sleep(0.2)
    latencies = []
    while not done.is_set():
        start = time.monotonic()
        small_engine.get_user("wang")
        latencies.append(time.monotonic() - start)
        time.sleep(0.02)
    thread.join()
    assert len(latencies) > 10
    assert max(latencies) < 0.5, f"worst read {max(latencies):.3f}s while the bomb ran"


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("s = 'a' * 10**6\ny = [s] * 3000", ("TaskDataError", "'y'", "too big")),
        ("r = range(10)", ("TaskDataError", "'r'", "range")),
        ("g = (i for i in [1])", ("TaskDataError", "'g'", "generator")),
        ("x = 'a' * 200000", ("TaskDataError", "'x'", "too big")),
    ],
)
def test_data_a_diagram_cannot_store_is_a_recorded_failure_naming_the_variable(
    small_engine: Engine, script: str, words: tuple[str, ...]
) -> None:
    small_engine.deploy({"data.bpmn": script_diagram("data", script)}, actor="admin")
    inst = small_engine.start("data", actor="wang", data={"keep": "me"})
    assert_recorded_failure(small_engine, inst.id, *words)


def parallel_scripts(process_id: str, left: str, right: str) -> bytes:
    """Two script branches joined before the user task: each branch's data is its own until the join."""

    def script(task_id: str, source: str, incoming: str, outgoing: str) -> str:
        return (
            f'<bpmn:scriptTask id="{task_id}" scriptFormat="python"><bpmn:incoming>{incoming}</bpmn:incoming>'
            f"<bpmn:outgoing>{outgoing}</bpmn:outgoing><bpmn:script><![CDATA[{source}]]></bpmn:script></bpmn:scriptTask>"
        )

    return diagram(
        process_id,
        f"""
    <bpmn:parallelGateway id="split"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>l1</bpmn:outgoing>
      <bpmn:outgoing>r1</bpmn:outgoing></bpmn:parallelGateway>
    {script("left", left, "l1", "l2")}
    {script("right", right, "r1", "r2")}
    <bpmn:parallelGateway id="step"><bpmn:incoming>l2</bpmn:incoming><bpmn:incoming>r2</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:sequenceFlow id="l1" sourceRef="split" targetRef="left"/>
    <bpmn:sequenceFlow id="r1" sourceRef="split" targetRef="right"/>
    <bpmn:sequenceFlow id="l2" sourceRef="left" targetRef="step"/>
    <bpmn:sequenceFlow id="r2" sourceRef="right" targetRef="step"/>""",
        first="split",
    )


def test_data_that_grows_past_the_limit_across_scripts_is_named_where_the_runner_stores_it(
    small_engine: Engine,
) -> None:
    """Each script returns under the limit; the instance's data as a whole does not fit."""
    small_engine.deploy(
        {"grow.bpmn": parallel_scripts("grow", "big = 'a' * 60000", "also_big = 'b' * 60000")}, actor="admin"
    )
    inst = small_engine.start("grow", actor="wang")
    assert inst.status == "error"
    assert (
        "the instance's data is too big" in inst.error
        and "'big'" in inst.error
        and "'also_big'" in inst.error
    )
    assert [e.event for e in small_engine.history(inst.id)][-1] == "instance.error"


def test_start_data_over_the_limit_is_refused_and_changes_nothing(small_engine: Engine) -> None:
    small_engine.deploy({"ok.bpmn": script_diagram("ok", "x = 1")}, actor="admin")
    with pytest.raises(InvalidInputError) as caught:
        small_engine.start("ok", actor="wang", data={"huge": "a" * 200_000})
    assert "huge" in caught.value.errors
    assert small_engine.list_instances(process_key="ok").total == 0


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("timeDuration", "'not a duration'"),
        ("timeDuration", "'P99999999999999999999D'"),
        ("timeDuration", "'-P1D'"),
        ("timeDuration", "'P9999999D'"),
        ("timeDuration", "42"),
        ("timeDate", "'P1D'"),
        ("timeDate", "'2026-13-45T00:00:00Z'"),
        ("timeCycle", "'R/PT0S'"),
        ("timeCycle", "'R3/nonsense'"),
        ("timeDuration", "P99999999999999999999D"),  # unquoted ISO literals, as other modelers write them
        ("timeCycle", "R/PT0S"),
        ("timeDate", "2026-02-30T00:00:00Z"),
    ],
)
def test_literal_timers_that_can_never_fire_are_refused_at_deploy(
    small_engine: Engine, kind: str, value: str
) -> None:
    with pytest.raises(DefinitionInvalidError) as caught:
        small_engine.deploy({"timer.bpmn": timer_diagram("timer", kind, value)}, actor="admin")
    assert caught.value.problems[0].element_id == "step"
    assert caught.value.problems[0].code in ("invalid-timer", "unsupported-timer")


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("timeDuration", "'P14D'"),
        ("timeDuration", "'PT36H'"),
        ("timeDate", "'2026-05-01T09:00:00Z'"),
        ("timeCycle", "'R3/PT1H'"),
        ("timeDuration", "wait_for"),
        ("timeDate", "add_duration(now(), 'P1D')"),
    ],
)
def test_timers_that_can_work_pass_the_literal_check(small_engine: Engine, kind: str, value: str) -> None:
    assert (
        small_engine.deploy({"timer.bpmn": timer_diagram("timer", kind, value)}, actor="admin").version == 1
    )


@pytest.mark.parametrize(
    "value", ["not a duration", "P99999999999999999999D", "-P1D", "P9999999D", "tomorrow"]
)
def test_timer_values_from_data_that_cannot_work_are_a_recorded_failure(
    small_engine: Engine, value: str
) -> None:
    small_engine.deploy({"wait.bpmn": timer_diagram("wait", "timeDuration", "wait_for")}, actor="admin")
    inst = small_engine.start("wait", actor="wang", data={"wait_for": value})
    assert_recorded_failure(small_engine, inst.id, "timer 'step'", "ISO 8601")


def test_timer_values_that_work_still_wait(small_engine: Engine) -> None:
    small_engine.deploy({"wait.bpmn": timer_diagram("wait", "timeDuration", "wait_for")}, actor="admin")
    inst = small_engine.start("wait", actor="wang", data={"wait_for": "P1D"})
    assert inst.status == "running" and inst.active_elements == ["step"]


def test_a_form_that_would_make_the_data_too_big_is_refused_and_changes_nothing(small_engine: Engine) -> None:
    small_engine.deploy({"ok.bpmn": script_diagram("ok", "x = 1")}, actor="admin")
    small_engine.upsert_user("wang")
    inst = small_engine.start("ok", actor="wang", data={"notes": "a" * 60_000})
    task = inst.open_tasks[0]
    with pytest.raises(InvalidInputError) as caught:
        small_engine.complete(task.id, "wang", {"more": "b" * 60_000})
    assert "too big" in caught.value.detail
    after = small_engine.get_instance(inst.id)
    assert (
        after.status == "running"
        and [t.id for t in after.open_tasks] == [task.id]
        and "more" not in after.data
    )


def test_a_forked_server_worker_starts_its_own_pool(sandbox: Any) -> None:
    """gunicorn forks its workers: each must use its own sandbox processes, never the parent's pipes."""
    import json
    import os

    sandbox.execute(FakeTask(), "x = 1")
    parent_workers = pool().pids()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked child
        code = 1
        try:
            os.close(read_end)
            task = FakeTask(a=20)
            sandbox.execute(task, "b = a * 2 + 2")
            os.write(write_end, json.dumps({"b": task.data["b"], "workers": pool().pids()}).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as answer:
        report = json.loads(answer.read() or "{}")
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert report["b"] == 42
    assert not set(report["workers"]) & set(parent_workers)
    assert pool().pids() == parent_workers  # the parent's pool is untouched
    task = FakeTask(a=1)
    sandbox.execute(task, "b = a + 1")
    assert task.data["b"] == 2


def test_a_timer_that_fails_when_a_timer_job_fires_is_recorded_on_the_instance(
    make_engine: Callable[..., Engine], clock: Any
) -> None:
    """The scheduler's path: the first timer fires from a job, the next one cannot be set."""
    engine = make_engine(deploy_shipped=False, script_time_limit=LIMIT)
    engine.deploy(
        {
            "two.bpmn": diagram(
                "two",
                """
    <bpmn:intermediateCatchEvent id="first"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>mid</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="mid" sourceRef="first" targetRef="step"/>
    <bpmn:intermediateCatchEvent id="step"><bpmn:incoming>mid</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>wait_for</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>""",
                first="first",
            )
        },
        actor="admin",
    )
    inst = engine.start("two", actor="wang", data={"wait_for": "-P1D"})
    assert inst.status == "running" and inst.active_elements == ["first"]
    clock.advance(days=2)
    engine.run_due_jobs()
    assert_recorded_failure(engine, inst.id, "timer 'step'", "wait_for", "ISO 8601")


def test_data_near_the_limit_travels_to_a_worker_and_back_intact(sandbox: Any) -> None:
    """A megabyte of ordinary data crosses the pipes both ways (many partial reads and writes)."""
    rows = [{"name": f"成员{i}", "share": i % 100, "note": "说明" * 40} for i in range(2_500)]
    task = FakeTask(rows=rows, title='评审 \u2028 "quoted" \\ back')
    sandbox.execute(task, "count = len(rows)\ntotal = sum([r['share'] for r in rows])")
    assert task.data["rows"] == rows and task.data["title"].endswith("back")
    assert task.data["count"] == 2_500 and task.data["total"] == sum(i % 100 for i in range(2_500))


def test_the_in_process_guards_stay_the_first_layer_inside_the_worker(sandbox: Any) -> None:
    """A Python-level loop is stopped by the worker's own tracer (with its line); no kill is needed."""
    sandbox.execute(FakeTask(), "x = 1")
    before = pool().pids()
    with pytest.raises(ScriptTimeoutError) as caught:
        sandbox.execute(FakeTask(), "x = 0\nwhile True:\n    x = x + 1")
    assert caught.value.context.get("line") in (2, 3) and "(line " in str(caught.value)
    with pytest.raises(SandboxViolationError, match="size limit"):
        sandbox.execute(FakeTask(), "x = 'a' * 10**9")
    assert pool().pids() == before


def multi_instance_diagram(process_id: str, loop: str) -> bytes:
    return diagram(
        process_id,
        f"""<bpmn:scriptTask id="step" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics {loop}</bpmn:multiInstanceLoopCharacteristics>
      <bpmn:script>done = True</bpmn:script></bpmn:scriptTask>""",
    )


@pytest.mark.parametrize(
    ("loop", "data"),
    [
        ("><bpmn:loopCardinality>how_many</bpmn:loopCardinality>", {"how_many": 20_000}),
        ('isSequential="true"><bpmn:loopCardinality>how_many</bpmn:loopCardinality>', {"how_many": 20_000}),
        (
            '><bpmn:loopDataInputRef>members</bpmn:loopDataInputRef><bpmn:inputDataItem id="member" name="member"/>',
            {"members": list(range(5_000))},
        ),
    ],
    ids=["parallel cardinality", "sequential cardinality", "input collection"],
)
def test_a_multi_instance_bomb_is_refused_quickly_and_recorded(
    small_engine: Engine, loop: str, data: dict
) -> None:
    """20,000 instances held the server for minutes; the activity is capped at 1,000 and fails clearly.

    The sequential form runs its first 1,000 scripts (one worker round trip each) before the cap.
    """
    small_engine.deploy({"mi.bpmn": multi_instance_diagram("mi", loop)}, actor="admin")
    elapsed, error = timed(lambda: small_engine.start("mi", actor="wang", data=data))
    assert error is None and elapsed < (15.0 if "isSequential" in loop else 3.0), f"{elapsed:.2f}s"
    inst = small_engine.list_instances(process_key="mi").items[0]
    assert_recorded_failure(small_engine, inst.id, "multi-instance 'step'", "1,000 instances")


def test_a_multi_instance_of_ordinary_size_still_runs(small_engine: Engine) -> None:
    small_engine.deploy(
        {"mi.bpmn": multi_instance_diagram("mi", "><bpmn:loopCardinality>how_many</bpmn:loopCardinality>")},
        actor="admin",
    )
    inst = small_engine.start("mi", actor="wang", data={"how_many": 12})
    assert inst.status == "running" and inst.active_elements == ["after"]


def test_a_worker_process_loads_the_sandbox_and_nothing_else_of_the_engine() -> None:
    """Small, fast workers: the engine's façade, store and runner never load in a worker."""
    listing = "print(','.join(sorted(m for m in sys.modules if m.startswith('engine.'))))"
    out = subprocess.run(
        [sys.executable, "-I", "-B", "-c", WORKER_IMPORTS + listing, str(ENGINE_DIR)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    loaded = set(out.split(","))
    assert "engine.sandbox.worker" in loaded and "engine.sandbox.environment" in loaded
    beyond = {m for m in loaded if not m.startswith("engine.sandbox.") and m != "engine.sandbox"}
    assert beyond <= {"engine.runtime", "engine.runtime.taskdata", "engine.errors", "engine.durations"}, (
        beyond
    )


def test_the_budget_counts_the_scripts_own_time_not_the_servers_load() -> None:
    """A thread kept waiting (here: asleep, as on a loaded server) is not stopped for it; one
    that spends its budget working is, and no script outlives ten times its budget on the wall."""
    import time

    from engine.sandbox.guards import TimedOut, run_limited, tick

    def waited_then_answers() -> int:
        time.sleep(0.3)  # the wall deadline passes while the thread uses no CPU
        return sum(n for n in range(10))

    assert run_limited(0.1, waited_then_answers) == 45

    def spins() -> None:
        while tick():
            pass

    started = time.monotonic()
    with pytest.raises(TimedOut):
        run_limited(0.1, spins)
    assert time.monotonic() - started < 1.0

    def never_works() -> None:
        while True:
            time.sleep(0.05)
            tick()

    started = time.monotonic()
    with pytest.raises(TimedOut):
        run_limited(0.05, never_works)
    assert time.monotonic() - started < 1.0  # the wall cap: ten budgets
