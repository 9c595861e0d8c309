"""HTTP mode: one gunicorn server at a time on 127.0.0.1, driven by a bounded threaded client."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from apps import PATH, SECRET

import flask_vapi

HERE = Path(__file__).resolve().parent
#: gunicorn app specs (``module:factory()``), importable with ``HERE`` on the path.
APP_SPECS = {"floor": "apps:create_floor_app()", "vapi": "apps:create_vapi_app()"}
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


class Server:
    """``gunicorn -k sync -w 1`` (by default) on a listening socket it inherits (no
    free-port race).

    ``spec`` (a ``module:factory()`` of this folder; default ``APP_SPECS[which]``),
    ``worker_class``, ``workers``, ``threads`` and ``timeout`` change the command (the
    deadline benchmark runs every worker class).  A context manager: the server is
    terminated (then killed) on exit, even on error.
    """

    def __init__(
        self,
        which: str,
        startup_timeout: float = 30.0,
        *,
        spec: Optional[str] = None,
        worker_class: str = "sync",
        workers: int = 1,
        threads: int = 1,
        timeout: int = 60,
    ) -> None:
        self.which = which
        self.startup_timeout = startup_timeout
        self.spec = spec or APP_SPECS[which]
        self.options = [f"--worker-class={worker_class}", f"--workers={workers}"]
        if worker_class == "gthread":
            self.options.append(f"--threads={threads}")
        self.options.append(f"--timeout={timeout}")
        self.workers = workers
        self.sock: Optional[socket.socket] = None
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.port = 0

    def __enter__(self) -> Server:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _start(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.set_inheritable(True)
        self.port = self.sock.getsockname()[1]
        fd = self.sock.fileno()
        # The same flask_vapi as this process, and the apps module of this folder.
        paths = [str(HERE), str(Path(flask_vapi.__file__).resolve().parent.parent)]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            *self.options,
            f"--bind=fd://{fd}",
            "--log-level=warning",
            self.spec,
        ]
        self.proc = subprocess.Popen(command, env=env, pass_fds=(fd,), cwd=str(HERE))
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn ({self.which}) exited with {self.proc.returncode}")
            if len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn ({self.which}) did not start its workers in time")

    def worker_pid(self) -> Optional[int]:
        """The pid of the (first) worker process, or ``None`` before it exists."""
        pids = self.worker_pids()
        return pids[0] if pids else None

    def worker_pids(self) -> list[int]:
        """The pids of the worker processes now."""
        if self.proc is None:
            return []
        master = self.proc.pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            children = [
                entry.name
                for entry in Path("/proc").iterdir()
                if entry.name.isdigit() and _ppid(entry.name) == master
            ]
        return [int(child) for child in children]

    def stop(self) -> None:
        """Stop gunicorn (SIGTERM, then SIGKILL after 10 s) and close the socket."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _ppid(pid: str) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat.rsplit(")", 1)[1].split()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def system_busy_seconds() -> float:
    """CPU seconds all processes have spent busy (not idle or waiting for I/O), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / CLOCK_TICK


def _process_cpu() -> float:
    """User + system CPU seconds of this (load generator) process, all threads."""
    times = os.times()
    return times.user + times.system


def request_bytes(port: int, body: bytes) -> bytes:
    """A complete Vapi webhook POST of ``body``."""
    head = (
        f"POST {PATH} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "User-Agent: Vapi\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Vapi-Secret: {SECRET}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


class Connection:
    """A client connection, reopened whenever the server closes it (the sync worker always does)."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.port = port
        self.timeout = timeout
        self.sock: Optional[socket.socket] = None

    def request(self, data: bytes) -> tuple[int, bytes]:
        """Send ``data``; return the status code and the answer body."""
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock = self.sock
        sock.sendall(data)
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed before the response headers")
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close = None, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        while length is None or len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                if length is None:
                    break
                raise ConnectionError("connection closed before the end of the body")
            rest += chunk
        if close or length is None:
            self.close()
        return status, rest

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


@dataclass
class LoadResult:
    """What one load run measured."""

    requests: int
    errors: int
    seconds: float
    latencies: list[float] = field(repr=False)
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    #: Busy CPU seconds of the whole machine during the run (server, client and everything else).
    system_cpu: float = 0.0
    first_error: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def latency_ms(self, quantile: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000

    @property
    def server_busy(self) -> float:
        """Fraction of the run the worker spent on CPU (about 1.0: the server is the bottleneck)."""
        return self.server_cpu / self.seconds if self.seconds else 0.0

    @property
    def other_busy(self) -> float:
        """CPUs used by other processes meanwhile (noise), in units of one CPU."""
        other = self.system_cpu - self.server_cpu - self.client_cpu
        return max(0.0, other / self.seconds) if self.seconds else 0.0

    @property
    def server_us_per_request(self) -> float:
        return self.server_cpu / self.requests * 1e6 if self.requests else float("nan")


def load(
    server: Server,
    body: bytes,
    connections: int,
    seconds: float,
    max_requests: int,
    bodies: Optional[Sequence[bytes]] = None,
) -> LoadResult:
    """Drive ``server`` for ``seconds`` (or ``max_requests``) with ``connections`` threads.

    Every request sends ``body``; with ``bodies``, the n-th request issued sends
    ``bodies[n]`` instead (at most ``len(bodies)`` requests), so that each can be distinct.
    """
    data = request_bytes(server.port, body)
    if bodies is not None:
        max_requests = min(max_requests, len(bodies))
    lock = threading.Lock()
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0]
    first_error: list[str] = []
    issued = [0]
    start_event = threading.Event()
    deadline = [0.0]

    def worker(index: int) -> None:
        conn = Connection(server.port)
        mine = latencies[index]
        perf = time.perf_counter
        start_event.wait()
        try:
            while perf() < deadline[0]:
                with lock:
                    if issued[0] >= max_requests:
                        return
                    index = issued[0]
                    issued[0] += 1
                sent = data if bodies is None else request_bytes(server.port, bodies[index])
                begin = perf()
                try:
                    status, _ = conn.request(sent)
                except OSError as exc:
                    conn.close()
                    status = 0
                    if not first_error:
                        first_error.append(f"{type(exc).__name__}: {exc}")
                if status == 200:
                    mine.append(perf() - begin)
                else:
                    with lock:
                        errors[0] += 1
                        if not first_error:
                            first_error.append(f"HTTP status {status}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    pid = server.worker_pid()
    cpu_before = cpu_seconds(pid) if pid else 0.0
    client_before = _process_cpu()
    system_before = system_busy_seconds()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start_event.set()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    elapsed = time.perf_counter() - began
    cpu_after = cpu_seconds(pid) if pid else 0.0
    client_cpu = _process_cpu() - client_before
    system_cpu = system_busy_seconds() - system_before
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError("a load thread did not finish in time")
    merged = [value for values in latencies for value in values]
    return LoadResult(
        requests=len(merged),
        errors=errors[0],
        seconds=elapsed,
        latencies=merged,
        server_cpu=cpu_after - cpu_before,
        client_cpu=client_cpu,
        system_cpu=system_cpu,
        first_error=first_error[0] if first_error else "",
    )


def probe(server: Server, body: bytes, expect: bytes) -> None:
    """Fail loudly unless the server answers ``body`` with 200 and ``expect`` in the answer."""
    conn = Connection(server.port, timeout=30)
    try:
        status, answer = conn.request(request_bytes(server.port, body))
    finally:
        conn.close()
    if status != 200 or expect not in answer:
        raise AssertionError(f"{server.which} server answered {status}: {answer[:300]!r}")
