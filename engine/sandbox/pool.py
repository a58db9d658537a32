"""A small pool of worker processes that run diagram code under hard limits.

The in-process sandbox (``engine.sandbox.environment``) refuses escapes and stops Python-level loops, but
one C-level operation (``[a] * 900 == [b] * 900``, ``sorted(..., key=str)``) holds the GIL, the
memory and the clock of the whole server until it returns. So every script, and every
expression that can do unbounded work, runs in a worker subprocess instead:

* the worker limits itself after start-up: address space (``JIEBANG_SANDBOX_MEMORY_MB``, default
  512), CPU seconds per request, 16 file descriptors, no child processes; it gets an empty
  environment and no inherited file descriptors;
* the parent sends the task data as JSON and waits on the pipe with a deadline (the script's
  time limit plus a short grace); blocking on a pipe releases the GIL, so request threads run on;
* past the deadline the worker is SIGKILLed and replaced, and the script fails with
  ScriptTimeoutError; a worker that dies (memory, CPU) fails it with ScriptError;
* the worker checks what it returns (JSON data only, at most the data limit) before encoding it,
  and the parent refuses any frame over that limit, so neither side builds a huge object.

One pool per process id, started lazily: gunicorn's forked workers each start their own.
``JIEBANG_SANDBOX_WORKERS`` sets its size (default 2); callers beyond it wait for a free worker.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import ScriptError, ScriptTimeoutError
from engine.runtime.taskdata import DEFAULT_MAX_DATA_BYTES, check_data
from engine.sandbox.wire import ERRORS, HEADER, REQUEST_SLACK, frame

__all__ = ["SandboxPool", "pool", "run_in_worker"]

#: Seconds a worker may take beyond the script's own time limit (transfer, decode, encode).
GRACE = 0.5
#: Seconds a fresh worker may take to import the sandbox and say it is ready.
START_TIMEOUT = 30.0
#: JSON escapes can make a text up to six times its character count (``\\u0001``).
ESCAPE_FACTOR = 6

#: The worker's imports: ``engine`` is a bare package over ``ENGINE_DIR`` (its ``__init__`` never
#: runs), so a worker loads the sandbox and what it needs, not the whole engine.
WORKER_IMPORTS = (
    "import sys, types\n"
    "pkg = types.ModuleType('engine'); pkg.__path__ = [sys.argv[1]]; sys.modules['engine'] = pkg\n"
    "from engine.sandbox.worker import serve\n"
)
ENGINE_DIR = Path(__file__).resolve().parent.parent
_BOOT = WORKER_IMPORTS + "serve(int(sys.argv[2]))\n"


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


class _Worker:
    """One worker process and its two pipe ends."""

    def __init__(self, memory_bytes: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-B", "-c", _BOOT, str(ENGINE_DIR), str(memory_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={"PATH": os.defpath, "LC_ALL": "C.UTF-8"},
            close_fds=True,
            cwd="/",
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin = self.proc.stdin.fileno()
        self.stdout = self.proc.stdout.fileno()
        os.set_blocking(self.stdin, False)
        self.ready = False

    def kill(self) -> None:
        """SIGKILL now and reap; safe to call twice."""
        try:
            self.proc.kill()
        except OSError:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    # -- framed I/O with a deadline (poll and os.read/os.write release the GIL) ---------------
    @staticmethod
    def _wait(fd: int, events: int, deadline: float) -> bool:
        """Wait until ``fd`` is ready for ``events`` or the deadline passes (poll: no FD_SETSIZE limit)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        poller = select.poll()
        poller.register(fd, events)
        return bool(poller.poll(max(1, int(remaining * 1000))))

    def _read_exact(self, count: int, deadline: float) -> bytes | None:
        chunks: list[bytes] = []
        while count:
            if not self._wait(self.stdout, select.POLLIN, deadline):
                return None
            chunk = os.read(self.stdout, min(count, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def receive(self, deadline: float, max_bytes: int) -> Any:
        """The next message, None past the deadline; EOFError if the worker died; ValueError if oversized."""
        head = self._read_exact(HEADER.size, deadline)
        if head is None:
            return None
        (length,) = HEADER.unpack(head)
        if length > max_bytes:
            raise ValueError(
                f"the sandbox worker answered {length:,} bytes, over the {max_bytes:,} byte limit"
            )
        body = self._read_exact(length, deadline)
        return None if body is None else json.loads(body)

    def send(self, payload: bytes, deadline: float) -> bool:
        """Write a whole message (stdin is non-blocking, so a stalled worker cannot hold us past the deadline)."""
        view = memoryview(payload)
        while view:
            if not self._wait(self.stdin, select.POLLOUT, deadline):
                return False
            try:
                view = view[os.write(self.stdin, view[: 1 << 16]) :]
            except BlockingIOError:
                continue
        return True


class SandboxPool:
    """Pre-started worker processes; ``run`` hands one request to a free worker and waits for it."""

    def __init__(
        self, size: int | None = None, memory_mb: int | None = None, max_data_bytes: int | None = None
    ) -> None:
        self.size = max(1, size if size is not None else _env_int("JIEBANG_SANDBOX_WORKERS", 2))
        self.memory_bytes = (
            (memory_mb if memory_mb is not None else _env_int("JIEBANG_SANDBOX_MEMORY_MB", 512)) * 1024 * 1024
        )
        self.max_data_bytes = max_data_bytes or _env_int("JIEBANG_MAX_DATA_BYTES", DEFAULT_MAX_DATA_BYTES)
        self.pid = os.getpid()
        self._lock = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._closed = False
        with self._lock:
            for _ in range(self.size):
                self._spawn()

    def _spawn(self) -> None:
        worker = _Worker(self.memory_bytes)
        self._all.add(worker)
        self._idle.append(worker)

    def _take(self) -> _Worker:
        with self._lock:
            while not self._idle:
                if self._closed:
                    raise ScriptError("the script sandbox is shut down")
                self._lock.wait()
            return self._idle.pop()

    def _give_back(self, worker: _Worker, healthy: bool) -> None:
        if healthy:
            with self._lock:
                self._idle.append(worker)
                self._lock.notify()
            return
        try:
            worker.proc.kill()  # SIGKILL now; reaping and the replacement happen off the caller's time
        except OSError:
            pass
        threading.Thread(target=self._replace, args=(worker,), name="sandbox-replace", daemon=True).start()

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)
            if not self._closed:
                self._spawn()
            self._lock.notify()

    def run(self, request: dict[str, Any], time_limit: float) -> dict[str, Any]:
        """Send one request; the worker's answer, or ScriptError/ScriptTimeoutError if it overran or died."""
        max_bytes = int(request.get("max_bytes") or self.max_data_bytes)
        payload = frame(request)
        if (
            len(payload) > max_bytes * ESCAPE_FACTOR * 2 + REQUEST_SLACK
        ):  # data and context, each within the limit
            raise ScriptError(
                f"the data sent to the script is {len(payload):,} bytes, too big for the sandbox"
            )
        worker = self._take()
        healthy = False
        try:
            if not worker.ready:
                try:
                    hello = worker.receive(time.monotonic() + START_TIMEOUT, 1024)
                except (EOFError, OSError, ValueError):
                    hello = None
                if not (isinstance(hello, dict) and "ready" in hello):
                    raise ScriptError("the script sandbox's worker process did not start")
                worker.ready = True
            deadline = time.monotonic() + time_limit + GRACE
            if not worker.send(payload, deadline):
                raise self._timeout(time_limit)
            answer = worker.receive(deadline, max_bytes * ESCAPE_FACTOR + REQUEST_SLACK)
            if answer is None:
                raise self._timeout(time_limit)
            healthy = not answer.get("memory")
            return answer
        except (EOFError, OSError):
            raise ScriptError(
                "the script was stopped: its sandbox process ended abruptly (over the memory or CPU limit)",
                error_type="ResourceLimit",
            ) from None
        except ValueError as exc:
            raise ScriptError(f"the script was stopped: {exc}") from None
        finally:
            self._give_back(worker, healthy)

    @staticmethod
    def _timeout(time_limit: float) -> ScriptTimeoutError:
        return ScriptTimeoutError(
            f"script ran longer than {time_limit:g}s and was stopped (its sandbox process was killed)",
            time_limit=time_limit,
        )

    def close(self) -> None:
        """Stop every worker (at exit, or when a test wants a fresh pool)."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._lock.notify_all()
        if os.getpid() == self.pid:
            for worker in workers:
                worker.kill()

    def pids(self) -> list[int]:
        with self._lock:
            return sorted(w.proc.pid for w in self._all)


_pools: dict[int, SandboxPool] = {}
_pools_lock = threading.Lock()


def pool() -> SandboxPool:
    """This process's pool, started on first use (a forked child starts its own)."""
    pid = os.getpid()
    found = _pools.get(pid)
    if found is None:
        with _pools_lock:
            found = _pools.get(pid)
            if found is None:
                found = _pools[pid] = SandboxPool()
    return found


def _after_fork_in_child() -> None:
    """A forked child (a gunicorn worker) starts its own pool; the parent's stays the parent's.

    The child closes its inherited copies of the parent's pipes, so a worker still sees end of
    file when the parent goes away; it never kills the parent's workers.
    """
    global _pools_lock
    _pools_lock = threading.Lock()  # the parent's lock may have been held at fork time
    for inherited in list(_pools.values()):
        for worker in list(inherited._all):
            for stream in (worker.proc.stdin, worker.proc.stdout):
                try:
                    stream.close()  # type: ignore[union-attr]
                except OSError:
                    pass
    _pools.clear()


def _close_at_exit() -> None:
    found = _pools.get(os.getpid())
    if found is not None:
        found.close()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_at_exit)


def run_in_worker(
    op: str,
    source: str,
    data: Mapping[str, Any],
    external: Mapping[str, Any] | None,
    *,
    now: str,
    time_limit: float,
    max_data_bytes: int | None = None,
) -> dict[str, Any]:
    """Run a script (``op="exec"``) or expression (``"eval"``) in a worker; returns the ok answer.

    A failure answer is raised as the ScriptError subclass the worker named, with its context.
    Data that cannot be sent (not JSON, too big) is a TaskDataError naming the variable.
    """
    sandbox = pool()
    limit = max_data_bytes or sandbox.max_data_bytes
    request = {
        "op": op,
        "source": source,
        "data": data,
        "external": external,
        "now": now,
        "time_limit": time_limit,
        "max_bytes": limit,
    }
    try:
        answer = sandbox.run(request, time_limit)
    except (TypeError, ValueError):  # json could not encode the data: say which variable holds what
        check_data(dict(data), limit)
        if external:
            check_data(dict(external), limit, where="the expression's context")
        raise
    if answer.get("ok"):
        return answer
    cls = ERRORS.get(str(answer.get("error")), ScriptError)
    context = answer.get("context") or {}
    raise cls(str(answer.get("detail") or "the script failed"), **context)
