"""A real ``jiebang serve`` process on loopback for the tests that need one, and the CLI."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bench.common import holds_port


def jiebang(*args: str) -> list[str]:
    """The ``jiebang`` command line of this virtualenv."""
    script = Path(sys.executable).with_name("jiebang")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "api.cli", *args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Serving:
    base: str
    proc: subprocess.Popen
    log: IO[str] | None = None
    exit_code: int | None = None

    def output(self) -> str:
        """What the server printed (from its pipe, or from the log file it wrote to)."""
        if self.proc.stdout:
            return self.proc.stdout.read()
        return Path(self.log.name).read_text() if self.log is not None else ""


def _start(
    env: dict[str, str], cwd: Path, probe: str, log: IO[str] | None, extra: tuple[str, ...]
) -> Serving | None:
    """``jiebang serve`` on a free port once ``probe`` answers 200 from it; None when another
    process's server answered on that port instead (it took the port between our look and our bind)."""
    port = free_port()
    proc = subprocess.Popen(
        jiebang("serve", "--host", "127.0.0.1", "--port", str(port), *extra),
        env=env,
        cwd=cwd,
        stdout=log or subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    handle = Serving(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(handle.base + probe, timeout=2) as resp:
                if resp.status == 200:
                    if holds_port(proc.pid, port):
                        return handle
                    proc.kill()
                    proc.wait()
                    return None
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"jiebang serve did not come up:\n{handle.output()}")
        time.sleep(0.2)


@contextlib.contextmanager
def serving(
    env: dict[str, str],
    cwd: Path,
    *,
    probe: str = "/api/openapi.json",
    log: IO[str] | None = None,
    extra: tuple[str, ...] = (),
) -> Iterator[Serving]:
    """Start ``jiebang serve`` (plus ``extra`` options) on 127.0.0.1, wait until ``probe`` answers 200, stop it with SIGTERM."""
    handle = None
    for _attempt in range(3):  # a port another server took at the same moment is given up for a new one
        handle = _start(env, cwd, probe, log, extra)
        if handle is not None:
            break
    if handle is None:
        raise AssertionError("jiebang serve found no free port in three tries")
    proc = handle.proc
    try:
        yield handle
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            handle.exit_code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
