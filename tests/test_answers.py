"""Answers of response-bearing types: pinned fallbacks, streams, and what a responder may return."""

from __future__ import annotations

import functools
from typing import Any, Callable

import pytest
from flask import Flask

from flask_vapi import VapiBlueprint, errors, signals
from flask_vapi import payloads as p

from .conftest import HEADERS, SECRET

#: The fallbacks the README documents, each with what Vapi does with it (protocol notes §6).
DOCUMENTED_FALLBACKS = {
    # "An error response is spoken and the call is rejected": a spoken apology.
    "assistant-request": {
        "error": "Sorry, we can't take your call right now. Please try again later."
    },
    # "error means no transfer".
    "transfer-destination-request": {"error": "The transfer destination is not available."},
    # "an empty destination or an error cancels the handoff".
    "handoff-destination-request": {
        "destination": {},
        "error": "The handoff destination is not available.",
    },
    # No documents: the model answers without the knowledge base.
    "knowledge-base-request": {"documents": []},
    # The response value must be 0-15 s; 1.5 s is a neutral wait.
    "call.endpointing.request": {"timeoutSeconds": 1.5},
    # "anything except a boolean eligible means a predial failure": say no, explicitly.
    "campaign.predial": {"eligible": False},
}


def make(vapi: VapiBlueprint) -> Flask:
    app = Flask("answers")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET)
    app.register_blueprint(vapi)
    return app


def post(app: Flask, message: dict[str, Any]) -> Any:
    return app.test_client().post("/vapi/webhook", json={"message": message}, headers=HEADERS)


def failures(app: Flask) -> Any:
    sent: list[dict[str, Any]] = []
    return sent, signals.handler_error.connected_to(
        lambda sender, **extra: sent.append({"sender": sender, **extra}), sender=app
    )


@pytest.mark.parametrize(("wire_type", "expected"), DOCUMENTED_FALLBACKS.items())
def test_each_fallback_is_the_documented_value(
    vapi: VapiBlueprint, wire_type: str, expected: dict[str, Any]
) -> None:
    vapi.responder(wire_type)(lambda message: 1 / 0)
    app = make(vapi)
    sent, connected = failures(app)
    with connected:
        response = post(app, p.make(wire_type))
    assert response.status_code == 200
    assert response.get_json() == expected
    assert [failure["sender"] for failure in sent] == [app]
    assert isinstance(sent[0]["exception"], ZeroDivisionError)


def test_the_voice_fallback_is_silence(vapi: VapiBlueprint) -> None:
    vapi.voice_request(lambda message: 1 / 0)
    response = post(make(vapi), p.make_voice_request())
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.get_data() == b""


def test_an_invalid_answer_reports_its_field_errors(vapi: VapiBlueprint) -> None:
    vapi.campaign_predial(lambda message: {"eligible": "yes"})
    app = make(vapi)
    sent, connected = failures(app)
    with connected:
        assert post(app, p.make("campaign.predial")).get_json() == {"eligible": False}
    exception = sent[0]["exception"]
    assert isinstance(exception, errors.InvalidResponse)
    assert exception.message_type == "campaign.predial"
    assert set(exception.errors) == {"eligible"}


def stray_generator(message: Any) -> Any:
    yield {"assistantId": "x"}


@pytest.mark.parametrize("wire_type", sorted(DOCUMENTED_FALLBACKS))
def test_a_json_responder_returning_an_iterator_gets_the_json_fallback(
    vapi: VapiBlueprint, wire_type: str
) -> None:
    vapi.responder(wire_type)(stray_generator)
    app = make(vapi)
    sent, connected = failures(app)
    with connected:
        response = post(app, p.make(wire_type))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == DOCUMENTED_FALLBACKS[wire_type]
    assert isinstance(sent[0]["exception"], errors.InvalidResponse)


def test_a_streamed_voice_answer_is_sent_as_pcm(vapi: VapiBlueprint) -> None:
    seen: list[str] = []

    @vapi.voice_request
    def speak(message: Any) -> Any:
        from flask_vapi import current_message

        for index in range(3):
            seen.append(current_message.type)  # still set while streaming
            yield bytes([index]) * 4

    response = post(make(vapi), p.make_voice_request())
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.get_data() == b"\x00" * 4 + b"\x01" * 4 + b"\x02" * 4
    assert seen == ["voice-request"] * 3


def failing_stream(message: Any) -> Any:
    yield b"ab"
    yield b"cd"
    raise OSError("voice provider went away")


def wrong_chunk_stream(message: Any) -> Any:
    yield b"ab"
    yield "text, not audio"
    yield b"never sent"


@pytest.mark.parametrize(
    ("stream", "problem", "sent_audio"),
    [(failing_stream, OSError, b"abcd"), (wrong_chunk_stream, errors.InvalidResponse, b"ab")],
    ids=["raises", "yields-str"],
)
def test_a_voice_stream_failing_halfway_ends_cleanly_and_is_reported_once(
    vapi: VapiBlueprint,
    caplog: pytest.LogCaptureFixture,
    stream: Any,
    problem: type,
    sent_audio: bytes,
) -> None:
    vapi.voice_request(stream)
    app = make(vapi)
    sent, connected = failures(app)
    with connected:
        response = post(app, p.make_voice_request())
        assert response.get_data() == sent_audio
    assert len(sent) == 1 and isinstance(sent[0]["exception"], problem)
    assert len([r for r in caplog.records if r.levelname == "ERROR"]) == 1


class Responder:
    def __call__(self, message: Any) -> Any:
        return {"assistantId": "from-object"}


def answer(assistant_id: str, message: Any) -> Any:
    return {"assistantId": assistant_id}


@pytest.mark.parametrize(
    ("handler", "expected"),
    [(Responder(), "from-object"), (functools.partial(answer, "from-partial"), "from-partial")],
    ids=["callable-object", "partial"],
)
def test_partials_and_callable_objects_answer(
    vapi: VapiBlueprint, handler: Callable[..., Any], expected: str
) -> None:
    vapi.assistant_request(handler)
    assert post(make(vapi), p.make_assistant_request()).get_json() == {"assistantId": expected}


def test_request_rejected_carries_status_code_and_reason(vapi: VapiBlueprint) -> None:
    app = make(vapi)
    sent: list[dict[str, Any]] = []
    with signals.request_rejected.connected_to(
        lambda sender, **extra: sent.append({"sender": sender, **extra}), sender=app
    ):
        app.test_client().post("/vapi/webhook", data=b"{", headers=HEADERS)
    (rejected,) = sent
    assert rejected["sender"] is app
    assert rejected["status"] == 400 and rejected["code"] == "invalid_json"
    assert rejected["reason"] == "The request body is not valid JSON."
    assert rejected["body"] == b"{"


def test_a_transfer_number_vapi_would_refuse_gets_the_fallback(vapi: VapiBlueprint) -> None:
    """TransferDestinationNumber.number is 3-40 characters (Vapi's spec)."""
    vapi.assistant_request(lambda message: {"destination": {"type": "number", "number": ""}})
    response = post(make(vapi), p.make_assistant_request())
    assert response.get_json() == DOCUMENTED_FALLBACKS["assistant-request"]


def test_a_schema_hook_that_raises_is_that_calls_error(vapi: VapiBlueprint) -> None:
    from marshmallow import Schema, fields, pre_load

    class Broken(Schema):
        n = fields.Integer()

        @pre_load
        def explode(self, data: Any, **kwargs: Any) -> Any:
            raise KeyError("bug in the user's hook")

    vapi.tool("broken", schema=Broken)(lambda n: n)
    vapi.tool("fine")(lambda: "ok")
    app = make(vapi)
    sent, connected = failures(app)
    with connected:
        body = post(app, p.make_tool_calls(("broken", {"n": 1}), ("fine", {}))).get_json()
    broken, fine = body["results"]
    assert broken["error"] == "The tool 'broken' failed with an internal error."
    assert fine["result"] == "ok"
    assert isinstance(sent[0]["exception"], KeyError)
