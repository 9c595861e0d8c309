"""A real HTTP server on 127.0.0.1 standing in for a call's Live Call Control URL."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    """One request the server got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ControlServer:
    """Answers each POST with the next of ``statuses`` (then 200), recording every request.

    A status of ``None`` answers nothing for ``silence`` seconds (a client timeout).
    """

    port: int = 0
    statuses: list[int | None] = field(default_factory=list)
    silence: float = 1.0
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/call-0001/control"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first ``count`` requests, once they arrived (fails after ``timeout``)."""
        with self.arrived:
            ok = self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
        assert ok, f"{len(self.received)} of {count} requests arrived"
        return self.received[:count]


def serve() -> Iterator[ControlServer]:
    """Run a :class:`ControlServer` until the generator is closed (a fixture body)."""
    state = ControlServer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = state.statuses.pop(0) if state.statuses else 200
            with state.arrived:
                state.received.append(
                    Received(
                        "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                )
                state.arrived.notify_all()
            if status is None:
                time.sleep(state.silence)
                return
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", f"http://127.0.0.1:{state.port}/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet

    with running(Handler) as port:
        state.port = port
        yield state


@contextlib.contextmanager
def running(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[int]:
    """An HTTP server with ``handler`` on 127.0.0.1, in a thread, for the block; its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="test-http-server", daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
