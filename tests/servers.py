"""Real servers for the tests: free ports on 127.0.0.1 and server subprocesses (redis-server)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Callable

HOST = "127.0.0.1"
#: The install line named when a server binary is missing.
INSTALL = {"redis-server": "apt-get install -y redis-server"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def require(binary: str) -> str:
    """The path of ``binary``; raises ``RuntimeError`` with its install line if it is missing."""
    path = shutil.which(binary)
    if path is None:
        hint = INSTALL.get(binary, f"install {binary}")
        raise RuntimeError(f"{binary} is not on PATH: {hint}")
    return path


class Server:
    """A server subprocess started by us and stopped by its own pid (never by name).

    It runs in a private temporary directory; its stdout and stderr go to a log file there,
    quoted when it fails to start.  ``ready(port)`` says whether it answers yet.
    """

    def __init__(self, argv: list[str], port: int, ready: Callable[[int], bool]) -> None:
        self.argv = argv
        self.port = port
        self.ready = ready
        self.workdir = Path(tempfile.mkdtemp(prefix="flask-vapi-server-"))
        self.log = self.workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def output(self) -> str:
        """What the server printed so far."""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def start(self, timeout: float = 20.0) -> None:
        """Start it and wait (at most ``timeout`` s) until it answers; ``RuntimeError`` if not."""
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.argv, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                output = self.output()
                self.stop()
                raise RuntimeError(f"{self.argv[0]} exited with {code} before answering:\n{output}")
            if self.ready(self.port):
                return
            if time.monotonic() > deadline:
                output = self.output()
                self.stop()
                raise RuntimeError(
                    f"{self.argv[0]} did not answer on port {self.port} within "
                    f"{timeout:g} s:\n{output}"
                )
            time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate our process (kill it if it does not exit) and remove its directory."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def redis_answers(port: int) -> bool:
    """Whether a Redis server on 127.0.0.1:``port`` answers ``PING``."""
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer(Server):
    """A private ``redis-server`` on 127.0.0.1 and a free port, without persistence."""

    def __init__(self) -> None:
        port = free_port()
        argv = [require("redis-server"), "--bind", HOST, "--port", str(port)]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        super().__init__(argv, port, redis_answers)

    @property
    def url(self) -> str:
        """Its ``redis://`` URL (database 0)."""
        return f"redis://{HOST}:{self.port}/0"


def start_redis(attempts: int = 3) -> RedisServer:
    """A started :class:`RedisServer` (a new port if another process took the first one)."""
    for attempt in range(attempts):
        server = RedisServer()
        try:
            server.start()
        except RuntimeError as exc:
            if "Address already in use" not in str(exc) or attempt == attempts - 1:
                raise
        else:
            return server
    raise AssertionError("unreachable")
