"""Responders: the one handler per response-bearing type, response checks and fallbacks."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from flask import Flask

from flask_vapi import VapiBlueprint, current_message, models
from flask_vapi import payloads as p
from flask_vapi.catalogue import ANSWERS, MESSAGE_KINDS
from flask_vapi.errors import ConfigurationError, InvalidResponse

from .conftest import HEADERS

#: type -> (decorator, a valid answer, invalid answers, Vapi's response definition)
CASES: dict[str, tuple[str, Any, list[Any], str]] = {
    "assistant-request": (
        "assistant_request",
        {"assistantId": "a1", "assistantOverrides": {"variableValues": {"name": "Maria"}}},
        [{}, {"assistantId": 5}, {"destination": {"type": "number"}}, "a1", None],
        "ServerMessageResponseAssistantRequest",
    ),
    "transfer-destination-request": (
        "transfer_destination_request",
        {
            "destination": {"type": "number", "number": "+14155550188"},
            "message": {"type": "request-start", "content": "Transferring you now."},
        },
        [{}, {"destination": {"type": "carrier-pigeon"}}, {"destination": {"type": "sip"}}],
        "ServerMessageResponseTransferDestinationRequest",
    ),
    "handoff-destination-request": (
        "handoff_destination_request",
        {"destination": {"type": "assistant", "assistantName": "Billing"}},
        [{"error": "no destination key"}, {"destination": "Billing"}],
        "ServerMessageResponseHandoffDestinationRequest",
    ),
    "knowledge-base-request": (
        "knowledge_base_request",
        {"documents": [{"content": "Open 9-5 on weekdays.", "similarity": 0.92}]},
        [
            {},
            {"documents": [{"content": "x"}]},
            {"documents": [{"content": "x", "similarity": "1"}]},
        ],
        "ServerMessageResponseKnowledgeBaseRequest",
    ),
    "call.endpointing.request": (
        "call_endpointing_request",
        {"timeoutSeconds": 0.8},
        [{}, {"timeoutSeconds": 16}, {"timeoutSeconds": -1}, {"timeoutSeconds": "1"}],
        "ServerMessageResponseCallEndpointingRequest",
    ),
    "campaign.predial": (
        "campaign_predial",
        {"eligible": True},
        [{}, {"eligible": 1}, {"eligible": "true"}],
        "ServerMessageResponseCampaignPredial",
    ),
}


def test_cases_cover_every_json_responder() -> None:
    assert set(CASES) == {kind for kind, answer in ANSWERS.items() if answer.schema is not None}


@pytest.mark.parametrize("wire_type", sorted(CASES))
def test_valid_answer_is_sent_as_returned(
    vapi: VapiBlueprint, post: Any, response_validator: Any, wire_type: str
) -> None:
    decorator, valid, _, definition = CASES[wire_type]
    seen: list[Any] = []

    @getattr(vapi, decorator)
    def respond(message: models.Message) -> Any:
        seen.append((type(message), message is current_message._get_current_object()))  # type: ignore[attr-defined]
        return valid

    response = post(p.FACTORIES[wire_type]())
    assert response.status_code == 200
    assert response.get_json() == valid
    response_validator(definition, response.get_json())
    assert seen == [(MESSAGE_KINDS[wire_type].model, True)]


@pytest.mark.parametrize(
    ("wire_type", "invalid"),
    [(kind, invalid) for kind, case in sorted(CASES.items()) for invalid in case[2]],
)
def test_invalid_answer_gets_the_fallback_and_is_signalled(
    vapi: VapiBlueprint, post: Any, received: Any, wire_type: str, invalid: Any
) -> None:
    getattr(vapi, CASES[wire_type][0])(lambda message: invalid)
    response = post(p.FACTORIES[wire_type]())
    assert response.status_code == 200
    assert response.get_json() == ANSWERS[wire_type].fallback
    error = received.of("handler_error")[0]["exception"]
    assert isinstance(error, InvalidResponse)
    assert error.message_type == wire_type


@pytest.mark.parametrize("wire_type", sorted(CASES))
def test_raising_responder_gets_the_fallback(
    vapi: VapiBlueprint, post: Any, received: Any, wire_type: str
) -> None:
    def broken(message: Any) -> Any:
        raise KeyError("secret-internal-detail")

    getattr(vapi, CASES[wire_type][0])(broken)
    response = post(p.FACTORIES[wire_type]())
    assert response.status_code == 200
    assert response.get_json() == ANSWERS[wire_type].fallback
    assert b"secret-internal-detail" not in response.get_data()
    assert received.of("handler_error")[0]["handler"] is broken


def test_configured_fallback_is_used(
    vapi: VapiBlueprint, make_app: Callable[..., Flask], response_validator: Any
) -> None:
    fallback = {"assistantId": "fallback-assistant"}
    app = make_app(vapi, VAPI_FALLBACK_RESPONSES={"assistant-request": fallback})

    @vapi.assistant_request
    def pick(message: Any) -> Any:
        raise TimeoutError

    response = app.test_client().post(
        "/vapi/webhook", json={"message": p.make_assistant_request()}, headers=HEADERS
    )
    assert response.get_json() == fallback
    # the other types keep their defaults
    assert vapi.settings_for(app).fallbacks["campaign.predial"] == {"eligible": False}


def test_unserialisable_answer_gets_the_fallback(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.assistant_request
    def pick(message: Any) -> Any:
        return {"assistantId": "a", "assistantOverrides": {"variableValues": {"x": object()}}}

    assert post(p.make_assistant_request()).get_json() == ANSWERS["assistant-request"].fallback


def test_async_responder(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.assistant_request
    async def pick(message: models.AssistantRequest) -> dict[str, str]:
        return {"assistantId": f"for-{message.customer.number}"}

    assert post(p.make_assistant_request()).get_json() == {
        "assistantId": f"for-{p.CUSTOMER_NUMBER}"
    }


def test_second_responder_for_a_type_raises(vapi: VapiBlueprint) -> None:
    @vapi.campaign_predial
    def first(message: Any) -> Any: ...

    with pytest.raises(ConfigurationError, match=r"'campaign\.predial' is already registered"):
        vapi.campaign_predial(lambda message: None)


def test_voice_request_returns_raw_pcm(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.voice_request
    def speak(message: models.VoiceRequest) -> bytes:
        return b"\x00\x01" * int(message.sample_rate // 1000)

    response = post(p.make_voice_request(sample_rate=16000))
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.get_data() == b"\x00\x01" * 16


def test_voice_request_can_stream(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.voice_request
    def speak(message: models.VoiceRequest) -> Any:
        return (bytes([i]) * 4 for i in range(3))

    response = post(p.make_voice_request())
    assert response.get_data() == b"\x00" * 4 + b"\x01" * 4 + b"\x02" * 4


@pytest.mark.parametrize("invalid", ["text", {"audio": "x"}, None])
def test_voice_request_invalid_answer_gets_silence(
    vapi: VapiBlueprint, post: Any, received: Any, invalid: Any
) -> None:
    vapi.voice_request(lambda message: invalid)
    response = post(p.make_voice_request())
    assert response.status_code == 200
    assert response.get_data() == b""
    assert isinstance(received.of("handler_error")[0]["exception"], InvalidResponse)


def test_missing_responder_sends_fallback_and_logs(post: Any, caplog: Any) -> None:
    response = post(p.make_campaign_predial())
    assert response.get_json() == {"eligible": False}
    assert "No responder is registered for Vapi 'campaign.predial'" in caplog.text
