"""A real gunicorn on 127.0.0.1 for tests: inherited listening socket, bounded start, sure stop."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import flask_vapi

ROOT = Path(__file__).resolve().parent.parent
PATH = "/vapi/webhook"
WORKER_CLASSES = ("sync", "gthread", "gevent")


class Answer:
    """One HTTP answer: status, headers (lower-case names) and body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        """The body as JSON; fails with the answer shown when it is not JSON."""
        if not self.content_type.startswith("application/json"):
            raise AssertionError(f"not a JSON answer: {self!r}")
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.content_type!r}, {self.body[:300]!r})"


class Gunicorn:
    """``gunicorn`` serving ``app`` (a ``module:factory(...)`` spec importable from the
    repository root) on a listening socket bound here and inherited as ``fd://N``, so there
    is no race for a free port.

    A context manager: it waits (at most ``startup_timeout`` s) for every worker process
    and for an HTTP answer (any status) to ``GET ready_path``, which proves the app loaded,
    failing with gunicorn's stderr; on exit it sends SIGTERM to the process it started,
    then SIGKILL to its workers and to it if they are still there after ``stop_timeout`` s.
    """

    def __init__(
        self,
        app: str,
        worker_class: str = "sync",
        *,
        workers: int = 1,
        threads: int = 1,
        timeout: int = 30,
        ready_path: str = "/",
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        if worker_class not in WORKER_CLASSES:
            raise ValueError(f"worker_class must be one of {WORKER_CLASSES}, not {worker_class!r}")
        self.app = app
        self.worker_class = worker_class
        self.workers = workers
        self.threads = threads
        self.timeout = timeout
        self.ready_path = ready_path
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.port = 0
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self._sock: Optional[socket.socket] = None
        self._stderr: Optional[Any] = None
        self._log = ""

    def __enter__(self) -> Gunicorn:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def command(self, fd: int) -> list[str]:
        """The gunicorn command line for the listening socket ``fd``."""
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            f"--worker-class={self.worker_class}",
            f"--workers={self.workers}",
            f"--timeout={self.timeout}",
            "--graceful-timeout=5",
            f"--bind=fd://{fd}",
            "--log-level=warning",
        ]
        if self.worker_class == "gthread":
            command.append(f"--threads={self.threads}")
        return [*command, self.app]

    def _start(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self._sock.set_inheritable(True)
        self.port = self._sock.getsockname()[1]
        fd = self._sock.fileno()
        # The same flask_vapi as this process, and the tests package of this checkout.
        paths = [str(ROOT), str(Path(flask_vapi.__file__).resolve().parent.parent)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.command(fd),
            env=env,
            pass_fds=(fd,),
            cwd=str(ROOT),
            stdin=subprocess.DEVNULL,
            stdout=self._stderr,
            stderr=self._stderr,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.proc.returncode}:\n{self.stderr_text()}"
                )
            if len(self.worker_pids()) >= self.workers and self._answers():
                return
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not start its workers in time:\n{self.stderr_text()}")

    def _answers(self) -> bool:
        # A short timeout: a worker that fails to load the app never answers, and then
        # gunicorn exits, which the startup loop sees.
        try:
            self.request("GET", self.ready_path, timeout=1.0)
        except OSError:
            return False
        return True

    def worker_pids(self) -> list[int]:
        """The pids of the worker processes now (children of the gunicorn we started)."""
        if self.proc is None:
            return []
        master = self.proc.pid
        try:
            text = Path(f"/proc/{master}/task/{master}/children").read_text()
            pids = [int(pid) for pid in text.split()]
        except OSError:
            pids = [
                int(entry.name)
                for entry in Path("/proc").iterdir()
                if entry.name.isdigit() and _ppid(entry.name) == master
            ]
        return sorted(pids)

    def stderr_text(self) -> str:
        """What gunicorn wrote so far (its log: errors, ``WORKER TIMEOUT``, tracebacks)."""
        if self._stderr is None:
            return self._log
        self._stderr.flush()
        self._stderr.seek(0)
        text: str = self._stderr.read().decode("utf-8", "replace")
        self._stderr.seek(0, os.SEEK_END)
        return text

    def request(
        self,
        method: str,
        path: str,
        body: Optional[bytes] = None,
        headers: Optional[dict[str, str]] = None,
        timeout: float = 30.0,
    ) -> Answer:
        """One request on a fresh connection, with a socket timeout."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            names = {name.lower(): value for name, value in response.getheaders()}
            return Answer(response.status, names, data)
        finally:
            conn.close()

    def post(self, message: dict[str, Any], timeout: float = 30.0) -> Answer:
        """POST ``message`` to the webhook in Vapi's envelope, unsigned (``VAPI_AUTH_DISABLED``)."""
        body = json.dumps({"message": message}).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Vapi"}
        return self.request("POST", PATH, body, headers, timeout)

    def stop(self) -> None:
        """SIGTERM to the gunicorn we started; after ``stop_timeout`` s SIGKILL to its
        workers, then to it.  Keeps its log (:meth:`stderr_text`); idempotent."""
        proc = self.proc
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    for pid in self.worker_pids():  # children of the live master: ours
                        os.kill(pid, signal.SIGKILL)
                    proc.kill()
                    proc.wait(timeout=self.stop_timeout)
            self.proc = None
        if self._stderr is not None:
            self._log = self.stderr_text()
            self._stderr.close()
            self._stderr = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _ppid(pid: str) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat.rsplit(")", 1)[1].split()[1])
