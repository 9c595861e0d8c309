"""A real Celery worker in a subprocess, started and stopped by its own pid."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

ROOT = Path(__file__).parent.parent.parent


class CeleryWorker:
    """``celery -A tests.background.celery_app worker`` (threads pool, concurrency 2)."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.output = Path(config["output"])
        self.log = self.output / "worker.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start it and wait (at most ``timeout`` s) until it is ready to take tasks."""
        env = dict(os.environ, FLASK_VAPI_TEST_CELERY=json.dumps(self.config))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        argv = [sys.executable, "-m", "celery", "-A", "tests.background.celery_app", "worker"]
        argv += ["--pool=threads", "--concurrency=2", "--loglevel=INFO"]
        argv += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        ready = self.output / "worker-ready"
        deadline = time.monotonic() + timeout
        while not ready.exists():
            code = self.process.poll()
            if code is not None or time.monotonic() > deadline:
                self.stop()
                what = f"exited with {code}" if code is not None else f"not ready in {timeout} s"
                raise RuntimeError(f"The Celery worker {what}:\n{self.output_text()}")
            time.sleep(0.05)

    def output_text(self) -> str:
        """What the worker logged so far."""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def tasks(self) -> list[dict[str, Any]]:
        """How each task execution ended (``tasks.jsonl``, written by the worker)."""
        path = self.output / "tasks.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (Celery's warm shutdown), then SIGKILL if it has not exited."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


def wait_until(
    condition: Callable[[], Any], timeout: float = 60.0, what: str = "the condition"
) -> Any:
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds (a bound on a
    hang, not a measurement: the tests assert what happened, never how fast)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}.", pytrace=False)
        time.sleep(0.05)
