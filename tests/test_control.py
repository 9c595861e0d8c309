"""``background.control``: one POST to a control URL, bounded retries, nothing leaked."""

from __future__ import annotations

import http.server
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from flask_vapi import __version__, background
from flask_vapi.background.control import Delivery, add_message, format_late_result, post

from .control_server import ControlServer, running, serve

TEXT = "Result of the tool 'lookupOrder' (tool call call_123): Order 42 ships tomorrow."
BODY = add_message(TEXT)
TOKEN = "k-secret-99"
PATIENCE = 10.0  # seconds a helper thread is waited for before the test fails; never a measure


@pytest.fixture(scope="module")
def server() -> Iterator[ControlServer]:
    yield from serve()  # one server for the module: each shutdown waits out a poll interval


@pytest.fixture
def control(server: ControlServer) -> ControlServer:
    """The module's server, with no scripted answers and no requests recorded yet."""
    with server.arrived:
        server.statuses, server.silence = [], 1.0
        server.received.clear()
    return server


@pytest.fixture
def sleeps() -> list[float]:
    return []


def closed_port() -> int:
    """A port bound a moment ago and closed: nobody listens there."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- the body ---------------------------------------------------------------------


def test_add_message_is_the_documented_live_call_control_body() -> None:
    assert add_message("hi") == {
        "type": "add-message",
        "message": {"role": "system", "content": "hi"},
        "triggerResponseEnabled": True,
    }
    assert add_message("hi", role="tool", trigger_response=False) == {
        "type": "add-message",
        "message": {"role": "tool", "content": "hi"},
        "triggerResponseEnabled": False,
    }


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        ({"result": "Order 42 ships tomorrow."}, TEXT),
        (
            {"error": "Order not found."},
            "The tool 'lookupOrder' (tool call call_123) failed: Order not found.",
        ),
    ],
)
def test_format_late_result_names_the_tool_and_the_tool_call(
    entry: dict[str, Any], text: str
) -> None:
    assert format_late_result("lookupOrder", "call_123", entry) == text


def test_format_late_result_without_a_tool_call_id() -> None:
    assert format_late_result("ping", None, {"result": "pong"}) == "Result of the tool 'ping': pong"
    assert format_late_result("ping", None, {"error": "down"}) == "The tool 'ping' failed: down"


def test_the_package_exports_the_public_names() -> None:
    assert background.post is post
    assert background.add_message is add_message
    assert background.format_late_result is format_late_result
    assert background.Delivery is Delivery
    assert sorted(background.__all__) == ["Delivery", "add_message", "format_late_result", "post"]


# -- the request ------------------------------------------------------------------


def test_delivered_at_once(control: ControlServer, sleeps: list[float]) -> None:
    delivery = post(control.url, BODY, token=TOKEN, call_id="c1", sleep=sleeps.append)
    assert delivery == Delivery(delivered=True, attempts=1, status=200, reason=None)
    (request,) = control.received
    assert (request.method, request.path) == ("POST", "/call-0001/control")
    assert request.json() == {
        "type": "add-message",
        "message": {"role": "system", "content": TEXT},
        "triggerResponseEnabled": True,
    }
    assert request.headers["content-length"] == str(len(request.body))
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"flask-vapi/{__version__}"
    assert sleeps == []


def test_no_token_no_authorization_header(control: ControlServer) -> None:
    assert post(control.url, BODY).delivered
    assert "authorization" not in control.received[0].headers


def test_the_query_string_is_kept(control: ControlServer) -> None:
    assert post(f"{control.url}?session=7", BODY).delivered
    assert control.received[0].path == "/call-0001/control?session=7"


@pytest.mark.parametrize("status", [201, 202, 204])
def test_any_2xx_is_delivered(control: ControlServer, status: int) -> None:
    control.statuses = [status]
    assert post(control.url, BODY) == Delivery(True, 1, status, None)


# -- retries ----------------------------------------------------------------------


def test_a_503_is_tried_again_after_the_backoff(
    control: ControlServer, sleeps: list[float]
) -> None:
    control.statuses = [503]
    delivery = post(control.url, BODY, backoff=0.25, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (True, 2, 200)
    assert sleeps == [0.25]
    assert len(control.received) == 2


def test_gives_up_after_the_attempts_with_growing_waits(
    control: ControlServer, sleeps: list[float]
) -> None:
    control.statuses = [503, 503, 503]
    delivery = post(control.url, BODY, attempts=3, backoff=0.5, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 3, 503)
    assert delivery.reason is not None and "503" in delivery.reason
    assert sleeps == [0.5, 1.0]
    assert len(control.received) == 3


def test_the_waits_double_each_time(control: ControlServer, sleeps: list[float]) -> None:
    control.statuses = [500] * 5
    delivery = post(control.url, BODY, attempts=5, backoff=0.1, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts) == (False, 5)
    assert sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8])


@pytest.mark.parametrize("status", [429, 500, 501, 502, 503, 504, 507, 520, 599])
def test_every_5xx_and_429_is_tried_again(
    control: ControlServer, sleeps: list[float], status: int
) -> None:
    control.statuses = [status]
    delivery = post(control.url, BODY, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts) == (True, 2)
    assert len(sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 422])
def test_a_refusal_is_not_tried_again(
    control: ControlServer, sleeps: list[float], status: int
) -> None:
    control.statuses = [status]
    delivery = post(control.url, BODY, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 1, status)
    assert delivery.reason == f"HTTP {status}"
    assert sleeps == []
    assert len(control.received) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed(
    control: ControlServer, sleeps: list[float], status: int
) -> None:
    control.statuses = [status]  # the server names /elsewhere as the Location
    delivery = post(control.url, BODY, token=TOKEN, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 1, status)
    assert delivery.reason == f"HTTP {status}: a redirect, not followed"
    assert [request.path for request in control.received] == ["/call-0001/control"]
    assert sleeps == []


def test_a_refused_connection_is_tried_again(sleeps: list[float]) -> None:
    url = f"http://127.0.0.1:{closed_port()}/x/control"
    delivery = post(url, BODY, backoff=0.5, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 3, None)
    assert delivery.reason == "ConnectionRefusedError (no answer)"
    assert sleeps == [0.5, 1.0]


def test_a_silent_server_counts_as_a_failed_attempt(
    control: ControlServer, sleeps: list[float]
) -> None:
    control.statuses, control.silence = [None], 1.0
    delivery = post(control.url, BODY, timeout=0.2, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (True, 2, 200)
    assert sleeps == [0.5]
    assert len(control.received) == 2


def test_a_server_silent_every_time_is_given_up(
    control: ControlServer, sleeps: list[float]
) -> None:
    control.statuses, control.silence = [None, None], 1.0
    delivery = post(control.url, BODY, attempts=2, timeout=0.2, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 2, None)
    assert delivery.reason == "TimeoutError (no answer)"


def test_an_answer_after_a_failed_one_reports_the_last_status(
    control: ControlServer, sleeps: list[float]
) -> None:
    control.statuses, control.silence = [503, None], 1.0
    delivery = post(control.url, BODY, attempts=2, timeout=0.2, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 2, None)


def test_tls_to_a_plain_http_server_is_a_failed_attempt(
    control: ControlServer, sleeps: list[float]
) -> None:
    url = control.url.replace("http://", "https://")
    delivery = post(url, BODY, token=TOKEN, attempts=2, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 2, None)
    assert delivery.reason is not None and delivery.reason.endswith("(no answer)")
    assert control.received == []  # the token never went out in clear


def test_attempts_must_be_at_least_one(control: ControlServer) -> None:
    with pytest.raises(ValueError, match="attempts"):
        post(control.url, BODY, attempts=0)
    assert control.received == []


# -- answers that are not well-formed HTTP --------------------------------------------


@dataclass
class Raw:
    """A server whose every POST is answered by ``answer(handler)``, writing bytes as it likes."""

    answer: Callable[[http.server.BaseHTTPRequestHandler], None]
    port: int = 0


@pytest.fixture(scope="module")
def raw_server() -> Iterator[Raw]:
    state = Raw(answer=lambda handler: None)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.answer(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with running(Handler) as port:
        state.port = port
        yield state


@pytest.fixture
def raw(raw_server: Raw) -> Raw:
    """The module's raw server, answering nothing yet."""
    raw_server.answer = lambda handler: None
    return raw_server


def test_the_answer_body_is_not_read(raw: Raw) -> None:
    cap, sent, hung_up, done = 64 * 1024 * 1024, [0], [], threading.Event()

    def endless(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()  # HTTP/1.0 without Content-Length: the body lasts until close
        chunk = b"x" * 65536
        try:
            while sent[0] < cap:
                handler.wfile.write(chunk)
                sent[0] += len(chunk)
        except OSError:
            hung_up.append(True)
        finally:
            done.set()

    raw.answer = endless
    delivery = post(f"http://127.0.0.1:{raw.port}/call-0001/control", BODY)
    assert delivery == Delivery(True, 1, 200, None)
    assert done.wait(PATIENCE)
    assert hung_up and sent[0] < cap


def echo_garbage(handler: http.server.BaseHTTPRequestHandler) -> None:
    """A status line that is not HTTP, quoting the request: its parse error quotes the URL."""
    line = f"HTTP/1.1 {handler.headers['Host']}{handler.path} {handler.headers['Authorization']}"
    handler.wfile.write(f"{line}\r\n\r\n".encode())


def test_a_garbled_answer_is_a_failed_attempt(raw: Raw, sleeps: list[float]) -> None:
    raw.answer = echo_garbage
    delivery = post(f"http://127.0.0.1:{raw.port}/c0ffee/steer", BODY, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 3, None)
    assert delivery.reason == "BadStatusLine (no answer)"


# -- URLs that are not posted to ----------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://example.com/control", "wss://x/control", "/control", "", "http:///control"]
)
def test_only_http_urls_are_posted_to(url: str, sleeps: list[float]) -> None:
    delivery = post(url, BODY, sleep=sleeps.append)
    assert delivery == Delivery(False, 0, None, "the control URL is not an http(s) URL")
    assert sleeps == []


MALFORMED = [
    "http://127.0.0.1:port/control",  # a port that is no number
    "http://127.0.0.1:99999/control",  # out of range
    "http://[::1/control",  # an unclosed IPv6 literal
    "http://" + "a" * 64 + ".example/control",  # a DNS label over 63 characters
    "http://a..example/control",  # an empty label
    "http://exa mple.example/control",  # a space in the host
    "http://127.0.0.1:{port}/x y/control",  # a space in the path
    "http://127.0.0.1:{port}/x\r\nX-Injected: 1/control",  # a header injection
    "http://127.0.0.1:{port}/x\tcontrol",  # a tab, which urlsplit would silently drop
    "http://127.0.0.1:{port}/caf\u00e9/control",  # not ASCII
]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_url_is_given_up_without_a_request(
    control: ControlServer, sleeps: list[float], url: str
) -> None:
    delivery = post(url.format(port=control.port), BODY, sleep=sleeps.append)
    assert delivery == Delivery(False, 0, None, "the control URL is malformed")
    assert control.received == []
    assert sleeps == []


# -- logs and reasons never hold the URL or the token ---------------------------------


def outcome(name: str, control: ControlServer, raw: Raw) -> tuple[list[int | None], str]:
    """The scripted statuses and the URL of one way a delivery can end."""
    base, garbled = f"http://127.0.0.1:{control.port}", f"http://127.0.0.1:{raw.port}"
    return {
        "delivered": ([], f"{base}/call-0001/control"),
        "retried": ([503], f"{base}/call-0001/control"),
        "exhausted": ([503, 503], f"{base}/call-0001/control"),
        "refused by the server": ([404], f"{base}/call-0001/control"),
        "redirected": ([302], f"{base}/call-0001/control"),
        "timed out": ([None, None], f"{base}/call-0001/control"),
        "no redaction pattern helps": ([404], f"{base}/c0ffee/steer?key=s3cr3t"),
        "an error quoting the URL": ([], f"{garbled}/c0ffee/steer?key=s3cr3t"),
        "TLS to plain HTTP": ([], f"https://127.0.0.1:{control.port}/call-0001/control"),
        "connection refused": ([], f"http://127.0.0.1:{closed_port()}/call-0001/control"),
        "not http": ([], "ftp://127.0.0.1:21/call-0001/control"),
        "malformed port": ([], f"{base}0000/call-0001/control"),
        "malformed host": ([], "http://" + "h" * 70 + ".example:8443/c0ffee/steer"),
        "malformed path": ([], f"{base}/c0ffee/st\u00e9er"),
    }[name]


def secret_parts(url: str) -> list[str]:
    """The URL, its host:port, its host, its path and query: none may be shown."""
    netloc, _, path = url.split("://", 1)[1].partition("/")
    return [url, netloc, netloc.rsplit(":", 1)[0], "/" + path]


@pytest.mark.parametrize(
    ("name", "delivered"),
    [
        ("delivered", True),
        ("retried", True),
        ("exhausted", False),
        ("refused by the server", False),
        ("redirected", False),
        ("timed out", False),
        ("no redaction pattern helps", False),
        ("an error quoting the URL", False),
        ("TLS to plain HTTP", False),
        ("connection refused", False),
        ("not http", False),
        ("malformed port", False),
        ("malformed host", False),
        ("malformed path", False),
    ],
)
def test_logs_and_reasons_never_show_the_url_or_token(
    control: ControlServer,
    raw: Raw,
    caplog: pytest.LogCaptureFixture,
    sleeps: list[float],
    name: str,
    delivered: bool,
) -> None:
    raw.answer = echo_garbage
    control.statuses, url = outcome(name, control, raw)
    with caplog.at_level(logging.DEBUG, "flask_vapi"):
        delivery = post(
            url, BODY, token=TOKEN, call_id="call-abc", attempts=2, timeout=0.2, sleep=sleeps.append
        )
    assert delivery.delivered is delivered
    (record,) = caplog.records  # one line per delivery, whatever happened
    assert record.levelname == ("INFO" if delivered else "WARNING")
    line = record.getMessage()
    assert "'call-abc'" in line and f"after {delivery.attempts} attempt(s)" in line
    if not delivered:
        assert delivery.reason is not None and delivery.reason in line
    shown = f"{caplog.text}\n{line}\n{delivery!r}"
    for part in [*secret_parts(url), TOKEN]:
        assert part not in shown
