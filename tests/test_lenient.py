"""Informational content is never refused: missing or odd fields read None and are named."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from marshmallow import ValidationError

from flask_vapi import VapiBlueprint, models
from flask_vapi import payloads as p
from flask_vapi.catalogue import MESSAGE_KINDS
from flask_vapi.models.base import Lazy, VapiObject

MISSING = ["Missing data for required field."]

#: Wire type -> its fields the protocol notes (§2) mark required, as (wire key,
#: attribute, a wrongly typed value or ``None`` when any JSON value is valid).
#: None of them is vital: a message without them still reaches the application.
SPEC_REQUIRED: dict[str, list[tuple[str, str, Any]]] = {
    "conversation-update": [("messagesOpenAIFormatted", "messages_openai_formatted", {})],
    "end-of-call-report": [
        ("endedReason", "ended_reason", 5),
        ("artifact", "artifact", "nope"),
        ("analysis", "analysis", []),
    ],
    "handoff-destination-request": [("parameters", "parameters", "nope")],
    "knowledge-base-request": [("messagesOpenAIFormatted", "messages_openai_formatted", "x")],
    "model-output": [("output", "output", None)],
    "phone-call-control": [("request", "request", 5)],
    "speech-update": [("status", "status", 5), ("role", "role", True)],
    "status-update": [("status", "status", 5)],
    "transcript": [
        ("role", "role", 5),
        ("transcriptType", "transcript_type", ["final"]),
        ("transcript", "transcript", {"text": "hi"}),
    ],
    'transcript[transcriptType="final"]': [("transcript", "transcript", 5)],
    "language-change-detected": [("language", "language", 5)],
    "language-changed": [("language", "language", 5)],
    "voice-input": [("input", "input", 5)],
    "assistant.speechStarted": [("text", "text", 5)],
    "voice-request": [("text", "text", 5), ("sampleRate", "sample_rate", "fast")],
    "call.endpointing.request": [("messagesOpenAIFormatted", "messages_openai_formatted", 5)],
    "chat.created": [("chat", "chat", "nope")],
    "chat.deleted": [("chat", "chat", 5)],
    "session.created": [("session", "session", "nope")],
    "session.updated": [("session", "session", [])],
    "session.deleted": [("session", "session", 5)],
    "call.artifact.upload": [("artifacts", "artifacts", {})],
    "campaign.predial": [("campaignId", "campaign_id", 5), ("contact", "contact", "nope")],
}
CASES = [(wire, *row) for wire, rows in SPEC_REQUIRED.items() for row in rows]


def model_of(wire_type: str) -> type[models.Message]:
    return MESSAGE_KINDS[wire_type].model


def read_everything(value: Any) -> None:
    """Read every lazy attribute, depth first (what a curious receiver might do)."""
    if isinstance(value, list):
        for item in value:
            read_everything(item)
        return
    if not isinstance(value, VapiObject):
        return
    for klass in type(value).__mro__:
        for name, attribute in vars(klass).items():
            if isinstance(attribute, Lazy):
                read_everything(getattr(value, name))


@pytest.mark.parametrize("wire_type", sorted(p.FACTORIES))
def test_realistic_payloads_have_no_invalid_fields(wire_type: str) -> None:
    message = model_of(wire_type).load(p.FACTORIES[wire_type](messages=3))
    assert message.invalid_fields == {}
    read_everything(message)
    assert message.invalid_fields == {}


@pytest.mark.parametrize(("wire_type", "key", "attr", "wrong"), CASES)
def test_a_missing_spec_required_field_reads_none_and_is_named(
    wire_type: str, key: str, attr: str, wrong: Any
) -> None:
    payload = p.FACTORIES[wire_type]()
    del payload[key]
    message = model_of(wire_type).load(payload)
    assert getattr(message, attr) is None
    assert message.invalid_fields == {key: MISSING}


@pytest.mark.parametrize(
    ("wire_type", "key", "attr", "wrong"), [case for case in CASES if case[3] is not None]
)
def test_a_wrongly_typed_spec_required_field_reads_none_and_is_named(
    wire_type: str, key: str, attr: str, wrong: Any
) -> None:
    payload = {**p.FACTORIES[wire_type](), key: wrong}
    message = model_of(wire_type).load(payload)
    assert getattr(message, attr) is None
    assert list(message.invalid_fields) == [key]
    assert message.raw[key] == wrong  # nothing is lost


@pytest.mark.parametrize(("wire_type", "key", "attr", "wrong"), CASES)
def test_the_responder_or_receiver_still_gets_the_message(
    post: Any, received: Any, wire_type: str, key: str, attr: str, wrong: Any
) -> None:
    payload = p.FACTORIES[wire_type]()
    del payload[key]
    response = post(payload)
    assert response.status_code == 200
    assert received.names()[0] == "message_received"
    assert received.of("message_received")[0]["message"].invalid_fields == {key: MISSING}


def test_optional_fields_wrongly_typed_read_none_eagerly_and_lazily() -> None:
    payload = p.make_status_update(status="ended", ended_reason="customer-ended-call")
    payload["endedReason"] = 5
    payload["call"]["cost"] = "a lot"
    message = models.StatusUpdate.load(payload)
    assert message.ended_reason is None
    assert message.status == "ended"
    assert message.invalid_fields == {"endedReason": ["Not a valid string."]}
    assert message.call is not None
    assert message.call.cost is None
    assert message.call.id == p.CALL_ID
    assert message.invalid_fields == {
        "endedReason": ["Not a valid string."],
        "call.cost": ["Not a valid number."],
    }


def test_vapis_documented_end_of_call_report_without_artifact_or_analysis(
    post: Any, received: Any
) -> None:
    # The older form in Vapi's docs: report fields at the top level, no endedReason.
    report = {
        "type": "end-of-call-report",
        "call": {"id": p.CALL_ID, "orgId": p.ORG_ID, "type": "inboundPhoneCall"},
        "recordingUrl": "https://storage.example/recording.wav",
        "summary": "The caller booked a cleaning for Tuesday.",
        "transcript": "AI: Hello, Bright Smile Dental.\nUser: I'd like a cleaning.",
        "messages": [{"role": "bot", "message": "Hello, Bright Smile Dental.", "time": 1.0}],
    }
    response = post(report)
    assert response.status_code == 200
    assert received.names() == ["message_received", "end_of_call_report"]
    message = received.of("end_of_call_report")[0]["message"]
    assert (message.ended_reason, message.artifact, message.analysis) == (None, None, None)
    assert message.invalid_fields == {
        "endedReason": MISSING,
        "artifact": MISSING,
        "analysis": MISSING,
    }
    assert message.call.id == p.CALL_ID
    assert message.raw["summary"] == report["summary"]


# -- vital fields ----------------------------------------------------------------------


@pytest.mark.parametrize("wire_type", sorted(MESSAGE_KINDS))
@pytest.mark.parametrize(("value", "error"), [(5, "Not a valid string."), (None, None)])
def test_a_type_that_is_not_a_string_is_refused(wire_type: str, value: Any, error: Any) -> None:
    body: dict[str, Any] = {"type": value} if value is not None else {}
    with pytest.raises(ValidationError) as excinfo:
        model_of(wire_type).load(body)
    assert excinfo.value.messages["type"] == ([error] if error else MISSING)  # type: ignore[index]


@pytest.mark.parametrize("data", [None, "tool-calls", [], 5])
def test_a_body_that_is_not_an_object_is_refused(data: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        models.ToolCalls.load(data)
    assert excinfo.value.messages == ["Not a valid object."]


GOOD_CALL = {"id": "call_good", "type": "function", "function": {"name": "f", "arguments": "{}"}}


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, {"toolCallList": MISSING}),
        ({"toolCallList": None, "toolCalls": None}, {"toolCallList": ["Field may not be null."]}),
        ({"toolCallList": {"0": GOOD_CALL}}, {"toolCallList": ["Not a valid list."]}),
        (
            {"toolCallList": [GOOD_CALL, {"function": {"name": "f"}}]},
            {"toolCallList": {1: {"id": MISSING}}},
        ),
        (
            {"toolCallList": [{"id": 7, "function": {"name": "f"}}]},
            {"toolCallList": {0: {"id": ["Not a valid string."]}}},
        ),
        ({"toolCallList": ["call_1"]}, {"toolCallList": {0: ["Not a valid object."]}}),
        ({"toolCalls": [{"function": {"name": "f"}}]}, {"toolCallList": {0: {"id": MISSING}}}),
    ],
)
def test_tool_calls_without_a_usable_list_or_ids_are_refused(
    fields: dict[str, Any], errors: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        models.ToolCalls.load({"type": "tool-calls", **fields})
    assert excinfo.value.messages == errors


@pytest.mark.parametrize(
    ("function_call", "errors"),
    [
        (None, MISSING),
        ("f", ["Not a valid object."]),
        ({"parameters": {}}, {"name": MISSING}),
        ({"name": 5}, {"name": ["Not a valid string."]}),
    ],
)
def test_function_call_without_a_usable_function_is_refused(
    function_call: Any, errors: Any
) -> None:
    body = {"type": "function-call"}
    if function_call is not None:
        body["functionCall"] = function_call
    with pytest.raises(ValidationError) as excinfo:
        models.FunctionCall.load(body)
    assert excinfo.value.messages == {"functionCall": errors}


def test_only_the_vital_problems_are_reported_when_refused() -> None:
    body = {"type": "tool-calls", "toolCallList": [{"function": "odd"}], "timestamp": "odd"}
    with pytest.raises(ValidationError) as excinfo:
        models.ToolCalls.load(body)
    assert excinfo.value.messages == {"toolCallList": {0: {"id": MISSING}}}


def test_a_vital_problem_is_a_422(post: Any, received: Any) -> None:
    response = post({"type": "tool-calls", "toolCallList": [{"function": {"name": "f"}}]})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"toolCallList": {"0": {"id": MISSING}}}
    assert received.names() == ["request_rejected"]


# -- one malformed tool call does not sink the batch -------------------------------------

MIXED = {
    "type": "tool-calls",
    "toolCallList": [
        {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": '{"n": 1}'}},
        {"id": "call_b", "type": "function", "function": "f(n=2)"},
        {"id": "call_c", "type": "function", "function": {"name": 5, "arguments": '{"n": 3}'}},
        {"id": "call_d", "type": "function", "function": {"name": "f", "arguments": "n=4"}},
        {"id": "call_e", "function": {"arguments": {"n": 5}}},
    ],
}


def test_a_mixed_batch_loads_and_names_the_broken_calls() -> None:
    message = models.ToolCalls.load(MIXED)
    calls = message.tool_calls
    assert [call.id for call in calls] == ["call_a", "call_b", "call_c", "call_d", "call_e"]
    assert [(call.name, call.arguments) for call in calls] == [
        ("f", {"n": 1}),
        ("", {}),
        ("", {"n": 3}),
        ("f", "n=4"),
        ("", {"n": 5}),
    ]
    assert [call.invalid_fields for call in calls] == [
        {},
        {"function": ["Not a valid object."], "function.name": MISSING},
        {"function.name": ["Not a valid string."]},
        {"function.arguments": ["Not a valid JSON object."]},
        {"function.name": MISSING},
    ]
    assert message.invalid_fields == {
        "toolCallList.1.function": ["Not a valid object."],
        "toolCallList.1.function.name": MISSING,
        "toolCallList.2.function.name": ["Not a valid string."],
        "toolCallList.3.function.arguments": ["Not a valid JSON object."],
        "toolCallList.4.function.name": MISSING,
    }


def test_a_mixed_batch_runs_the_good_calls_and_answers_every_id(
    make_app: Any, vapi: VapiBlueprint
) -> None:
    from .conftest import HEADERS

    ran = []

    @vapi.tool("f")
    def f(n: int) -> str:
        ran.append(n)
        return f"done {n}"

    client = make_app(vapi).test_client()
    response = client.post("/vapi/webhook", json={"message": MIXED}, headers=HEADERS)
    assert response.status_code == 200
    results = {entry["toolCallId"]: entry for entry in response.get_json()["results"]}
    assert list(results) == ["call_a", "call_b", "call_c", "call_d", "call_e"]
    assert results["call_a"]["result"] == "done 1"
    assert ran == [1]
    assert all("error" in results[key] for key in ("call_b", "call_c", "call_d", "call_e"))


def test_empty_or_absent_arguments_are_an_empty_object() -> None:
    for function in ({"name": "f", "arguments": ""}, {"name": "f"}):
        call = models.ToolCall.load({"id": "1", "function": function})
        assert (call.arguments, call.invalid_fields) == ({}, {})


# -- lazy attributes: a failed read is None, named, and logged once ------------------------


def test_a_lazy_object_that_fails_reads_none_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "https://control.example/secret-capability"
    message = models.Hang.load({"type": "hang", "call": secret, "timestamp": True})
    assert message.invalid_fields == {}
    with caplog.at_level(logging.WARNING, logger="flask_vapi"):
        assert message.call is None
        assert message.call is None  # cached: no second warning
        assert message.timestamp is None
    assert message.invalid_fields == {
        "call": ["Not a valid object."],
        "timestamp": ["Not a valid timestamp (epoch milliseconds or ISO-8601 string)."],
    }
    warnings = [record for record in caplog.records if record.name == "flask_vapi"]
    assert len(warnings) == 2
    assert all(record.levelno == logging.WARNING for record in warnings)
    assert "Hang.call" in warnings[0].getMessage() and "call" in warnings[0].getMessage()
    assert "timestamp" in warnings[1].getMessage()
    assert secret not in caplog.text


def test_history_items_that_fail_are_named_by_their_wire_index(
    caplog: pytest.LogCaptureFixture,
) -> None:
    payload = p.make_end_of_call_report(messages=5)
    history = payload["artifact"]["messages"]
    history[1] = "not an object"
    del history[2]["role"]
    history[3]["time"] = {"secret": "sk-live-value"}
    message = models.EndOfCallReport.load(payload)
    assert message.invalid_fields == {}  # not read yet
    with caplog.at_level(logging.WARNING, logger="flask_vapi"):
        items = message.artifact.messages
    assert [item.raw for item in items] == [history[0], history[2], history[3], history[4]]
    assert items[1].role is None and items[2].time is None
    assert items[2].role == history[3]["role"]
    expected = {
        "messages.1": ["Not a valid object."],
        "messages.2.role": MISSING,
        "messages.3.time": ["Not a valid number."],
    }
    assert message.artifact.invalid_fields == expected
    assert message.invalid_fields == {f"artifact.{path}": value for path, value in expected.items()}
    [warning] = caplog.records
    assert "messages.1, messages.2.role, messages.3.time" in warning.getMessage()
    assert "sk-live-value" not in caplog.text


def test_a_lazy_nested_object_with_a_vital_problem_reads_none() -> None:
    payload = p.make_tool_calls(("f", {}))
    del payload["toolWithToolCallList"][0]["toolCall"]["id"]
    message = models.ToolCalls.load(payload)
    entry = message.tool_with_tool_call_list[0]
    assert entry.tool_call is None
    assert message.invalid_fields == {"toolWithToolCallList.0.toolCall.id": MISSING}


def test_a_lazy_list_that_is_not_a_list_reads_none() -> None:
    payload = p.make_conversation_update(messages=2)
    payload["messages"] = {"0": {"role": "user"}}
    message = models.ConversationUpdate.load(payload)
    assert message.messages is None
    assert message.messages_openai_formatted is not None
    assert message.invalid_fields == {"messages": ["Not a valid list."]}
