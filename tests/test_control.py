"""``background.control.post``: one POST to a control URL, bounded retries, nothing leaked."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from flask_vapi.background.control import add_message, post

from .control_server import ControlServer, serve

BODY = add_message("Result of the tool 'lookupOrder': ships tomorrow.")


@pytest.fixture
def control() -> Iterator[ControlServer]:
    yield from serve()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def test_delivered_at_once(control: ControlServer, sleeps: list[float]) -> None:
    delivery = post(control.url, BODY, token="k-1234", call_id="c1", sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status, delivery.reason) == (
        True,
        1,
        200,
        None,
    )
    (request,) = control.received
    assert request.json() == BODY
    assert request.headers["authorization"] == "Bearer k-1234"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("flask-vapi/")
    assert sleeps == []


def test_no_token_no_authorization_header(control: ControlServer) -> None:
    post(control.url, BODY)
    assert "authorization" not in control.received[0].headers


def test_a_503_is_tried_again_after_the_backoff(
    control: ControlServer, sleeps: list[float]
) -> None:
    control.statuses = [503]
    delivery = post(control.url, BODY, backoff=0.25, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts) == (True, 2)
    assert sleeps == [0.25]


def test_gives_up_after_the_attempts_with_growing_waits(
    control: ControlServer, sleeps: list[float]
) -> None:
    control.statuses = [503, 502, 500]
    delivery = post(control.url, BODY, attempts=3, backoff=0.5, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 3, 500)
    assert delivery.reason == "HTTP 500"
    assert sleeps == [0.5, 1.0]
    assert len(control.received) == 3


@pytest.mark.parametrize("status", [400, 401, 404])
def test_a_refusal_is_not_tried_again(
    control: ControlServer, sleeps: list[float], status: int
) -> None:
    control.statuses = [status]
    delivery = post(control.url, BODY, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.reason) == (False, 1, f"HTTP {status}")
    assert sleeps == []


def test_a_redirect_is_not_followed(control: ControlServer) -> None:
    control.statuses = [302]
    delivery = post(control.url, BODY, token="k-1234")
    assert (delivery.delivered, delivery.reason) == (False, "HTTP 302")
    assert [request.path for request in control.received] == ["/call-0001/control"]


def test_a_refused_connection_is_tried_again(sleeps: list[float]) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    delivery = post(f"http://127.0.0.1:{port}/x/control", BODY, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts, delivery.status) == (False, 3, None)
    assert delivery.reason == "ConnectionRefusedError (no answer)"
    assert len(sleeps) == 2


def test_a_silent_server_counts_as_a_failed_attempt(
    control: ControlServer, sleeps: list[float]
) -> None:
    control.statuses, control.silence = [None], 1.0
    delivery = post(control.url, BODY, timeout=0.2, sleep=sleeps.append)
    assert (delivery.delivered, delivery.attempts) == (True, 2)


@pytest.mark.parametrize("url", ["ftp://example.com/control", "wss://x/control", "/control", ""])
def test_only_http_urls_are_posted_to(url: str) -> None:
    delivery = post(url, BODY)
    assert (delivery.delivered, delivery.attempts) == (False, 0)
    assert delivery.reason == "the control URL is not an http(s) URL"


def test_logs_name_the_call_never_the_url_or_token(
    control: ControlServer, caplog: pytest.LogCaptureFixture
) -> None:
    control.statuses = [200, 404]
    with caplog.at_level(logging.DEBUG, "flask_vapi"):
        post(control.url, BODY, token="k-secret-99", call_id="call-abc")
        post(control.url, BODY, token="k-secret-99", call_id="call-abc")
    assert [record.levelname for record in caplog.records] == ["INFO", "WARNING"]
    assert all("call-abc" in record.getMessage() for record in caplog.records)
    for text in (control.url, f"127.0.0.1:{control.port}", "k-secret-99"):
        assert text not in caplog.text
