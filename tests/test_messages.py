"""Every message type: a realistic payload is validated, signalled as a typed object, answered."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

import pytest

from flask_vapi import models, signals
from flask_vapi import payloads as p
from flask_vapi.catalogue import ANSWERS, MESSAGE_KINDS

from .conftest import ALL_SIGNALS

#: Wire type -> (signal attribute, model, check of the typed message).
EXPECTED: dict[str, tuple[str, type[models.Message], Callable[[Any], bool]]] = {
    "assistant-request": (
        "assistant_request",
        models.AssistantRequest,
        lambda m: m.call.status == "ringing" and m.customer.number == p.CUSTOMER_NUMBER,
    ),
    "conversation-update": (
        "conversation_update",
        models.ConversationUpdate,
        lambda m: m.messages[0].role == "system" and m.messages_openai_formatted[0].content,
    ),
    "end-of-call-report": (
        "end_of_call_report",
        models.EndOfCallReport,
        lambda m: (
            m.ended_reason
            and m.artifact.transcript
            and m.analysis.summary
            and m.call.id == p.CALL_ID
        ),
    ),
    "handoff-destination-request": (
        "handoff_destination_request",
        models.HandoffDestinationRequest,
        lambda m: isinstance(m.parameters, dict),
    ),
    "hang": ("hang", models.Hang, lambda m: m.call.id == p.CALL_ID),
    "knowledge-base-request": (
        "knowledge_base_request",
        models.KnowledgeBaseRequest,
        lambda m: m.messages_openai_formatted[-1].role,
    ),
    "model-output": ("model_output", models.ModelOutput, lambda m: m.output is not None),
    "phone-call-control": (
        "phone_call_control",
        models.PhoneCallControl,
        lambda m: m.request in ("forward", "hang-up"),
    ),
    "speech-update": (
        "speech_update",
        models.SpeechUpdate,
        lambda m: m.status == "started" and m.role == "assistant",
    ),
    "status-update": ("status_update", models.StatusUpdate, lambda m: m.status == "in-progress"),
    "tool-calls": (
        "tool_calls",
        models.ToolCalls,
        lambda m: (
            m.tool_calls[0].name == "bookAppointment"
            and isinstance(m.tool_calls[0].arguments, dict)
            and m.tool_with_tool_call_list[0].tool_call.id == m.tool_calls[0].id
        ),
    ),
    "transfer-destination-request": (
        "transfer_destination_request",
        models.TransferDestinationRequest,
        lambda m: m.call.id == p.CALL_ID,
    ),
    "transfer-update": (
        "transfer_update",
        models.TransferUpdate,
        lambda m: m.destination.type in ("number", "sip", "assistant"),
    ),
    "transcript": (
        "transcript",
        models.Transcript,
        lambda m: m.transcript and m.role in ("user", "assistant") and m.transcript_type,
    ),
    'transcript[transcriptType="final"]': (
        "transcript",
        models.Transcript,
        lambda m: m.type == 'transcript[transcriptType="final"]' and m.transcript,
    ),
    "user-interrupted": ("user_interrupted", models.UserInterrupted, lambda m: m.turn_id),
    "language-change-detected": (
        "language_change_detected",
        models.LanguageChangeDetected,
        lambda m: m.language,
    ),
    "language-changed": ("language_changed", models.LanguageChanged, lambda m: m.language),
    "voice-input": ("voice_input", models.VoiceInput, lambda m: m.input),
    "assistant.speechStarted": (
        "assistant_speech_started",
        models.AssistantSpeechStarted,
        lambda m: m.text,
    ),
    "assistant.started": (
        "assistant_started",
        models.AssistantStarted,
        lambda m: m.new_assistant.name,
    ),
    "voice-request": (
        "voice_request",
        models.VoiceRequest,
        lambda m: m.text and m.sample_rate > 0,
    ),
    "call.endpointing.request": (
        "call_endpointing_request",
        models.CallEndpointingRequest,
        lambda m: m.messages_openai_formatted,
    ),
    "chat.created": ("chat_created", models.ChatCreated, lambda m: m.chat.id == p.CHAT_ID),
    "chat.deleted": ("chat_deleted", models.ChatDeleted, lambda m: m.chat.id == p.CHAT_ID),
    "session.created": (
        "session_created",
        models.SessionCreated,
        lambda m: m.session.id == p.SESSION_ID,
    ),
    "session.updated": (
        "session_updated",
        models.SessionUpdated,
        lambda m: m.session.id == p.SESSION_ID,
    ),
    "session.deleted": (
        "session_deleted",
        models.SessionDeleted,
        lambda m: m.session.id == p.SESSION_ID,
    ),
    "call.deleted": ("call_deleted", models.CallDeleted, lambda m: m.call.id == p.CALL_ID),
    "call.delete.failed": (
        "call_delete_failed",
        models.CallDeleteFailed,
        lambda m: m.call.id == p.CALL_ID,
    ),
    "call.artifact.upload": (
        "call_artifact_upload",
        models.CallArtifactUpload,
        lambda m: m.artifacts[0].type and m.artifacts[0].success in (True, False),
    ),
    "campaign.predial": (
        "campaign_predial",
        models.CampaignPredial,
        lambda m: m.campaign_id == p.CAMPAIGN_ID and m.contact.number == p.CUSTOMER_NUMBER,
    ),
    "function-call": (
        "function_call",
        models.FunctionCall,
        lambda m: m.function_call.name and isinstance(m.function_call.parameters, dict),
    ),
}

CAMPAIGN_EVENTS = [kind for kind, spec in MESSAGE_KINDS.items() if spec.model is models.Message]


def test_every_catalogued_type_is_covered() -> None:
    assert set(EXPECTED) | set(CAMPAIGN_EVENTS) == set(MESSAGE_KINDS)
    assert set(p.FACTORIES) == set(EXPECTED)


def test_every_response_type_has_a_decorator() -> None:
    from flask_vapi import VapiBlueprint

    for answer in ANSWERS.values():
        assert callable(getattr(VapiBlueprint, answer.decorator))


@pytest.mark.parametrize("wire_type", sorted(EXPECTED))
@pytest.mark.parametrize("timestamp_as", ["ms", "iso"])
def test_each_type_is_signalled_typed_and_answered(
    post: Any,
    received: Any,
    vapi_schema: dict[str, Any],
    response_validator: Callable[[str, Any], None],
    wire_type: str,
    timestamp_as: str,
) -> None:
    signal_name, model, check = EXPECTED[wire_type]
    payload = p.FACTORIES[wire_type](timestamp_as=timestamp_as)
    response = post(payload)

    assert response.status_code == 200
    assert received.names() == ["message_received", signal_name]
    sent = received.of(signal_name)[0]
    message = sent["message"]
    assert type(message) is model
    assert message.type == wire_type
    assert message.raw == payload
    assert check(message)
    assert isinstance(message.timestamp, datetime)
    assert message.timestamp.tzinfo is not None

    answer = ANSWERS.get(wire_type)
    if wire_type in ("tool-calls", "function-call"):
        body = response.get_json()  # no tool registered: every call gets an error
        assert "No tool named" in (body.get("error") or body["results"][0]["error"])
    elif answer is None:
        assert response.get_json() == {}
    elif answer.schema is None:
        assert response.mimetype == "application/octet-stream"
        assert response.get_data() == answer.fallback
    else:  # no responder registered: the fallback, valid for Vapi
        assert response.get_json() == answer.fallback
        definition = "ServerMessageResponse" + model.__name__
        response_validator(definition, response.get_json())


@pytest.mark.parametrize("wire_type", CAMPAIGN_EVENTS)
def test_campaign_events_have_their_own_signal(post: Any, received: Any, wire_type: str) -> None:
    response = post(p.make(wire_type))
    assert response.status_code == 200
    assert response.get_json() == {}
    signal = MESSAGE_KINDS[wire_type].signal
    name = next(name for name, value in ALL_SIGNALS.items() if value is signal)
    assert received.names() == ["message_received", name]
    assert received.of(name)[0]["message"].type == wire_type


def test_signal_attribute_names_are_snake_case_of_the_type() -> None:
    for wire_type, kind in MESSAGE_KINDS.items():
        if wire_type.startswith("transcript"):
            assert kind.signal is signals.transcript
            continue
        expected = (
            "".join("_" + char.lower() if char.isupper() else char for char in wire_type)
            .replace("-", "_")
            .replace(".", "_")
        )
        assert getattr(signals, expected) is kind.signal, wire_type


# -- typed objects ---------------------------------------------------------------------


def test_timestamp_accepts_epoch_ms_and_iso() -> None:
    as_ms = models.Hang.load({"type": "hang", "timestamp": 1764000000000})
    as_iso = models.Hang.load({"type": "hang", "timestamp": "2025-11-24T16:00:00.000Z"})
    expected = datetime(2025, 11, 24, 16, 0, tzinfo=timezone.utc)
    assert as_ms.timestamp == expected
    assert as_iso.timestamp == expected


def test_bad_timestamp_raises_when_read() -> None:
    from marshmallow import ValidationError

    message = models.Hang.load({"type": "hang", "timestamp": True})
    with pytest.raises(ValidationError):
        _ = message.timestamp


def test_absent_optional_fields_read_as_none() -> None:
    message = models.StatusUpdate.load({"type": "status-update", "status": "ended"})
    assert message.ended_reason is None
    assert message.call is None
    assert message.timestamp is None
    assert message.messages is None


def test_unknown_fields_are_tolerated_at_every_depth() -> None:
    payload = p.make_end_of_call_report(messages=2, brandNewField={"x": 1})
    payload["call"]["newCallField"] = [1]
    payload["artifact"]["newArtifactField"] = "y"
    payload["artifact"]["messages"][0]["newItemField"] = True
    message = models.EndOfCallReport.load(payload)
    assert message.raw["brandNewField"] == {"x": 1}
    assert message.call.raw["newCallField"] == [1]
    assert message.artifact.raw["newArtifactField"] == "y"
    assert message.artifact.messages[0].raw["newItemField"] is True


def test_history_is_validated_only_when_read() -> None:
    from marshmallow import ValidationError

    payload = p.make_end_of_call_report(messages=3)
    payload["artifact"]["messages"][1] = {"no": "role"}
    message = models.EndOfCallReport.load(payload)  # accepted: history not read yet
    assert message.artifact.transcript
    with pytest.raises(ValidationError) as excinfo:
        _ = message.artifact.messages
    assert excinfo.value.messages == {1: {"role": ["Missing data for required field."]}}


def test_lazy_attributes_are_loaded_once() -> None:
    message = models.EndOfCallReport.load(p.make_end_of_call_report(messages=3))
    assert message.artifact is message.artifact
    assert message.call.customer is message.call.customer


def test_tool_call_arguments_as_string_or_object() -> None:
    as_object = models.ToolCalls.load(p.make_tool_calls(("f", {"a": 1}), arguments_as="object"))
    as_string = models.ToolCalls.load(p.make_tool_calls(("f", {"a": 1})))
    assert as_object.tool_calls[0].arguments == {"a": 1}
    assert as_string.tool_calls[0].arguments == {"a": 1}


@pytest.mark.parametrize(
    ("item", "name", "arguments"),
    [
        ({"id": "1", "name": "f", "parameters": {"a": 1}}, "f", {"a": 1}),
        ({"id": "1", "name": "f", "arguments": '{"a": 1}'}, "f", {"a": 1}),
        ({"id": "1", "function": {"name": "f"}}, "f", {}),
        ({"id": "1", "function": {"name": "f", "arguments": "not json"}}, "f", "not json"),
    ],
)
def test_legacy_tool_call_shapes(item: dict[str, Any], name: str, arguments: Any) -> None:
    call = models.ToolCall.load(item)
    assert (call.name, call.arguments) == (name, arguments)


def test_tool_calls_mirror_is_used_when_list_is_missing() -> None:
    message = models.ToolCalls.load(
        {"type": "tool-calls", "toolCalls": [{"id": "x", "function": {"name": "f"}}]}
    )
    assert message.tool_calls[0].id == "x"


def test_function_call_parameters_as_string_or_object() -> None:
    for parameters in ('{"a": 1}', {"a": 1}):
        message = models.FunctionCall.load(
            {"type": "function-call", "functionCall": {"name": "f", "parameters": parameters}}
        )
        assert message.function_call.parameters == {"a": 1}


def test_repr_shows_type_without_large_values() -> None:
    text = repr(models.StatusUpdate.load(p.make_status_update()))
    assert text.startswith("<StatusUpdate") and "status-update" in text


def test_explicit_nulls_in_optional_fields_are_accepted(post: Any) -> None:
    payload = p.make_status_update(status="ended", ended_reason=None)
    payload["endedReason"] = None
    payload["assistantVersion"] = None
    payload["call"]["cost"] = None
    payload["call"]["endedReason"] = None
    response = post(payload)
    assert response.status_code == 200
    message = models.StatusUpdate.load(payload)
    assert message.ended_reason is None
    assert message.assistant_version is None
    assert message.call.cost is None


def test_null_in_a_required_field_is_422(post: Any) -> None:
    response = post({"type": "status-update", "status": None})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"status": ["Field may not be null."]}
