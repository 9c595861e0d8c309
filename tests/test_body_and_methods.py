"""The body limit (VAPI_MAX_CONTENT_LENGTH alone, both upload paths) and the JSON 405."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask

from flask_vapi import VapiBlueprint, signals
from flask_vapi.payloads import make_end_of_call_report, wrap

from .conftest import HEADERS, SECRET


class CountingStream(io.BytesIO):
    """A WSGI input that counts the bytes handed out."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.handed_out = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.handed_out += len(data)
        return data


def body_of(size: int) -> bytes:
    """A valid status-update body of exactly ``size`` bytes (padded in an unknown field)."""
    base = json.dumps({"message": {"type": "status-update", "status": "ended", "pad": ""}})
    body = base[:-3] + "x" * (size - len(base)) + base[-3:]
    assert len(body) == size
    return body.encode()


def make(**config: Any) -> Flask:
    app = Flask("limits")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET, **config)
    app.register_blueprint(VapiBlueprint())
    return app


def send(app: Flask, body: bytes, *, chunked: bool) -> tuple[Any, CountingStream]:
    stream = CountingStream(body)
    environ: dict[str, Any] = {"wsgi.input": stream}
    headers = dict(HEADERS)
    if chunked:
        environ["wsgi.input_terminated"] = True
        headers["Transfer-Encoding"] = "chunked"
    client = app.test_client()
    response = (
        client.open(
            "/vapi/webhook",
            method="POST",
            headers=headers,
            content_type="application/json",
            environ_overrides=environ,
            # A given data= would replace wsgi.input; the length is set by hand below.
        )
        if chunked
        else client.post(
            "/vapi/webhook",
            data=body,
            headers=headers,
            content_type="application/json",
            environ_overrides={"wsgi.input": stream},
        )
    )
    return response, stream


LIMIT = 4096


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_of_exactly_the_limit_is_accepted(chunked: bool) -> None:
    app = make(VAPI_MAX_CONTENT_LENGTH=LIMIT)
    response, _ = send(app, body_of(LIMIT), chunked=chunked)
    assert response.status_code == 200, response.get_data()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_one_byte_more_is_a_json_413(chunked: bool) -> None:
    app = make(VAPI_MAX_CONTENT_LENGTH=LIMIT)
    response, _ = send(app, body_of(LIMIT + 1), chunked=chunked)
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"


def test_a_chunked_body_is_never_read_past_the_limit_plus_one() -> None:
    app = make(VAPI_MAX_CONTENT_LENGTH=LIMIT)
    response, stream = send(app, body_of(100 * LIMIT), chunked=True)
    assert response.status_code == 413
    assert stream.handed_out == LIMIT + 1


def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    app = make(VAPI_MAX_CONTENT_LENGTH=LIMIT)
    response, stream = send(app, body_of(10 * LIMIT), chunked=False)
    assert response.status_code == 413
    assert stream.handed_out == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_the_apps_own_max_content_length_does_not_preempt_the_webhook(chunked: bool) -> None:
    """An app limiting uploads to 1 MiB still receives a 2 MB end-of-call report."""
    app = make(MAX_CONTENT_LENGTH=1024 * 1024)
    report = make_end_of_call_report(summary="x" * (2 * 1024 * 1024))
    body = json.dumps(wrap(report)).encode()
    assert len(body) > 2 * 1024 * 1024
    heard: list[Any] = []
    with signals.end_of_call_report.connected_to(lambda s, **k: heard.append(k), sender=app):
        response, _ = send(app, body, chunked=chunked)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert len(heard) == 1


def test_within_the_apps_limit_a_before_request_hook_may_read_the_body_first() -> None:
    app = make(MAX_CONTENT_LENGTH=1024 * 1024)
    seen: list[bytes] = []
    app.before_request(lambda: seen.append(__import__("flask").request.get_data()) and None)
    body = body_of(2000)
    response, _ = send(app, body, chunked=False)
    assert response.status_code == 200
    assert seen == [body]


@pytest.mark.parametrize(
    "method", ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "BREW"]
)
def test_every_method_but_post_gets_the_json_405(method: str) -> None:
    app = make()
    response = app.test_client().open("/vapi/webhook", method=method, headers=HEADERS)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    if method != "HEAD":
        assert response.get_json()["code"] == "method_not_allowed"
    else:
        assert response.mimetype == "application/json"
