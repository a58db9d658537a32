"""``jiebang serve``: gunicorn (threaded workers) with exactly one job loop per server, an access
log that never shows a secret, and a graceful stop on SIGTERM.

The job loop (timers, webhook deliveries) runs in one gunicorn worker at a time: every worker
keeps trying a file lock private to this server and the holder runs the loop, so a restarted or
crashed worker hands it to another without a second loop ever running beside it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from engine import Engine

from .worker import run_worker

log = logging.getLogger("jiebang.serve")

GRACEFUL_SECONDS = 5  # SIGTERM: requests in flight get this long, then the worker goes

# Secrets that can appear in a request line or header: a login link's one-time token, a bearer
# token (``jb_…``), and query parameters named like a credential.
_SECRETS = (
    (re.compile(r"(/login/link/)[^/?#\s\"]+"), r"\1[redacted]"),
    (re.compile(r"(?i)(bearer\s+)\S+"), r"\1[redacted]"),
    (re.compile(r"\bjb_[A-Za-z0-9_\-]{8,}"), "jb_[redacted]"),
    (re.compile(r"(?i)([?&](?:token|access_token|password|secret|key)=)[^&\s\"]*"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    """``text`` with every login-link token, bearer token and credential query value replaced."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingLogger(Logger):
    """gunicorn's logger whose access-log fields (request line, path, query, referer, headers) are redacted."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        return {
            name: redact(value) if isinstance(value, str) else value
            for name, value in super().atoms(resp, req, environ, request_time).items()
        }


class JobLoopHolder:
    """Runs the job loop in this process while it holds the server's job-loop lock."""

    def __init__(self, engine: Engine, lock_path: str, interval: float) -> None:
        self.engine, self.lock_path, self.interval = engine, lock_path, interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="jiebang-job-loop", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        with open(self.lock_path, "a+") as lock:
            while not self.stop.is_set():
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    self.stop.wait(self.interval)  # another worker runs the loop
                    continue
                log.info("job loop running in worker %s", os.getpid())
                try:
                    run_worker(self.engine, self.stop, interval=self.interval)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def halt(self, timeout: float) -> None:
        self.stop.set()
        self.thread.join(timeout)


def serve(
    make_engine: Callable[[], Engine],
    make_app: Callable[[Engine, str], Any],
    *,
    host: str,
    port: int,
    workers: int,
    threads: int,
    interval: float,
    secret_key: str | None,
    announce: Callable[[], None],
) -> int:
    """Run gunicorn until SIGTERM/SIGINT; returns (via gunicorn's own exit) 0 after a graceful stop.

    ``make_app(engine, secret_key)`` builds each worker's app; one secret key is shared by all
    workers so a session cookie signed by one is read by the others.
    """
    secret = secret_key or secrets.token_hex(32)
    lock_dir = tempfile.mkdtemp(prefix="jiebang-serve-")
    lock_path = os.path.join(lock_dir, "job-loop.lock")
    # Metrics counted in every worker, summed at each scrape (api/metrics.py): prometheus_client's
    # multi-process files, in this server's own directory unless the operator chose one.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(lock_dir, "metrics")
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    holders: dict[int, JobLoopHolder] = {}

    def post_worker_init(worker: Any) -> None:
        holder = JobLoopHolder(worker.wsgi.extensions["jiebang"], lock_path, interval)
        holders[os.getpid()] = holder
        holder.start()

    def worker_exit(_server: Any, _worker: Any) -> None:
        holder = holders.pop(os.getpid(), None)
        if holder is not None:
            holder.halt(GRACEFUL_SECONDS)
            holder.engine.store.dispose()

    def child_exit(_server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # its live gauges go; its counters stay summed

    def on_exit(_server: Any) -> None:
        shutil.rmtree(lock_dir, ignore_errors=True)

    class Application(BaseApplication):
        def load_config(self) -> None:
            settings = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "graceful_timeout": GRACEFUL_SECONDS,
                "accesslog": "-",
                "control_socket_disable": True,  # one per user account by default: several servers on a host would share it
                "logger_class": RedactingLogger,
                "post_worker_init": post_worker_init,
                "worker_exit": worker_exit,
                "child_exit": child_exit,
                "on_exit": on_exit,
                "when_ready": lambda _server: announce(),
            }
            for name, value in settings.items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            return make_app(make_engine(), secret)

    try:
        Application().run()
    finally:
        shutil.rmtree(lock_dir, ignore_errors=True)
    return 0
