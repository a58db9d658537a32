"""The sandbox worker process: runs diagram code for one parent, one request at a time.

Started by ``engine.sandbox.pool`` with a tiny boot line that loads only this module, the
sandbox (``engine.sandbox.environment`` with its guards, helpers and restricted modules), its
wire protocol (``engine.sandbox.wire``), ``engine.runtime.taskdata`` and ``engine.errors``, never the
whole engine package, so a worker starts in a fraction of a second and stays small. After its
imports it limits itself (address space, CPU seconds, file descriptors, no child processes)
and answers requests on stdin/stdout.

Protocol: every message is a 4-byte big-endian length and that many bytes of UTF-8 JSON.
The worker first sends ``{"ready": pid}``. A request is
``{"op": "exec"|"eval", "source", "data", "external", "now", "time_limit", "max_bytes"}``;
the answer is ``{"ok": true, "data": {...}}`` (exec: the whole new task data) or
``{"ok": true, "value": ...}`` (eval), or ``{"ok": false, "error": class name, "detail",
"context"}``. Results are checked (JSON data only, at most ``max_bytes``) before they are
encoded, so neither side ever builds a huge JSON text.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
from datetime import datetime
from typing import Any

from engine.errors import ScriptError
from engine.runtime.taskdata import check_data, check_value
from engine.sandbox.environment import SandboxEnvironment
from engine.sandbox.wire import frame, read_message


def _limit_self(memory_bytes: int) -> None:
    """Hard limits the diagram code cannot lift: memory, open files, no new processes, no core files."""
    limits = [
        (resource.RLIMIT_AS, memory_bytes),
        (resource.RLIMIT_NOFILE, 16),
        (resource.RLIMIT_CORE, 0),
    ]
    if hasattr(resource, "RLIMIT_NPROC"):
        limits.append((resource.RLIMIT_NPROC, 0))
    for which, value in limits:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):  # e.g. a lower hard limit already set by the service manager
            soft, hard = resource.getrlimit(which)
            resource.setrlimit(which, (min(value, hard) if hard != resource.RLIM_INFINITY else value, hard))


def _limit_cpu(seconds: float) -> None:
    """Allow this request ``seconds`` more CPU time; the kernel stops the process past that."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(used + seconds) + 2
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """Run one request in the in-process sandbox and return the answer message."""
    now = datetime.fromisoformat(request["now"])
    time_limit = float(request["time_limit"])
    max_bytes = int(request["max_bytes"])
    env = SandboxEnvironment(lambda: now, time_limit=time_limit)
    data = request["data"]
    external = request.get("external") or None
    _limit_cpu(time_limit)
    try:
        if request["op"] == "exec":
            env.execute(request["source"], data, external or {})
            check_data(data, max_bytes, where="the script's task data")
            return {"ok": True, "data": data}
        value = env.evaluate(request["source"], data, external)
        check_value(value, max_bytes, "the expression's result")
        return {"ok": True, "value": value}
    except ScriptError as err:
        context = {
            k: v
            for k, v in err.context.items()
            if isinstance(v, str | int | float | bool | list) or v is None
        }
        detail, memory = err.detail, _ran_out_of_memory(err)
        if memory:
            detail = (
                f"the script ran out of memory: it needed more than the sandbox's "
                f"{resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20:,} MiB and was stopped"
            )
        return {
            "ok": False,
            "error": type(err).__name__,
            "detail": detail,
            "context": context,
            "memory": memory,
        }


def _ran_out_of_memory(err: BaseException) -> bool:
    return isinstance(err.__cause__, MemoryError) or "MemoryError" in str(
        getattr(err, "context", {}).get("error_type")
    )


def serve(memory_bytes: int) -> None:
    """Answer requests until stdin closes (the parent went away or retired this worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's Ctrl-C is the parent's to handle
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdin = sys.stdout = None  # nothing else may touch the protocol pipes
    _limit_self(memory_bytes)
    stdout.write(frame({"ready": os.getpid()}))
    stdout.flush()
    while True:
        try:
            request = read_message(stdin, memory_bytes)  # the parent bounds what it sends
        except (ValueError, MemoryError):
            return
        if request is None:
            return
        try:
            answer = frame(handle(request))
        except MemoryError:
            answer = frame(
                {
                    "ok": False,
                    "error": "ScriptError",
                    "memory": True,
                    "context": {},
                    "detail": "the script ran out of memory (the sandbox's memory limit) and was stopped",
                }
            )
        except Exception as exc:  # a malformed request must not end the worker silently
            answer = frame(
                {
                    "ok": False,
                    "error": "ScriptError",
                    "context": {},
                    "detail": f"the sandbox worker could not run the request: {type(exc).__name__}: {exc}",
                }
            )
        stdout.write(answer)
        stdout.flush()
