"""Tests for flask_vapi.payloads: schema validity of every factory, and behaviour."""

from __future__ import annotations

import copy
import datetime
import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from flask_vapi import payloads as p

Check = Callable[[dict[str, Any]], None]

# Wire types the brief lists (the bracketed transcript spelling is the schema's 2nd enum value).
LISTED_TYPES = {
    "simulation.run.started",  # protocol notes §11: flat bodies
    "simulation.run.ended",
    "assistant-request",
    "conversation-update",
    "end-of-call-report",
    "handoff-destination-request",
    "hang",
    "knowledge-base-request",
    "model-output",
    "phone-call-control",
    "speech-update",
    "status-update",
    "tool-calls",
    "transfer-destination-request",
    "transfer-update",
    "transcript",
    "user-interrupted",
    "language-change-detected",
    "voice-input",
    "assistant.speechStarted",
    "voice-request",
    "call.endpointing.request",
    "chat.created",
    "chat.deleted",
    "session.created",
    "session.updated",
    "session.deleted",
    "call.deleted",
    "call.delete.failed",
    "call.artifact.upload",
    "campaign.predial",
    "function-call",
    "language-changed",
    "assistant.started",
}
# Simulation events are not server messages: the derived schema has no branch for them.
NO_SCHEMA_TYPES = {
    "function-call",
    "language-changed",
    "assistant.started",
    "simulation.run.started",
    "simulation.run.ended",
}
SCHEMA_TYPES = sorted(set(p.FACTORIES) - NO_SCHEMA_TYPES)
HISTORY_FACTORIES: dict[str, Callable[..., dict[str, Any]]] = {
    "conversation-update": p.make_conversation_update,
    "end-of-call-report": p.make_end_of_call_report,
    "knowledge-base-request": p.make_knowledge_base_request,
    "call.endpointing.request": p.make_call_endpointing_request,
    "status-update-forwarding": lambda **kw: p.make_status_update(status="forwarding", **kw),
}
FIVE_CALLS: list[p.ToolCallSpec] = [
    ("checkAvailability", {"doctor": "Dr. Patel", "date": "2026-09-08"}),
    ("bookAppointment", {"patientName": "Maria Gonzalez", "time": "10:30"}),
    ("sendSmsConfirmation", {"to": "+14155550123", "remind": True}),
    ("lookupPatient", {"dateOfBirth": "1985-03-14", "visits": 3, "balance": 12.5}),
    ("getDirections", {"from": {"lat": 37.77, "lng": -122.42}, "modes": ["car", "bus"]}),
]


# --------------------------------------------------------------------------- schema


@pytest.fixture(scope="session")
def schema(vapi_schema: dict[str, Any]) -> dict[str, Any]:
    return vapi_schema


@pytest.fixture(scope="session")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)


@pytest.fixture(scope="session")
def branch_validators(schema: dict[str, Any]) -> dict[str, Draft202012Validator]:
    """One validator per root ``oneOf`` branch, keyed by its ``type`` values (for diagnostics)."""
    validators = {}
    for branch in schema["$defs"]["ServerMessage"]["properties"]["message"]["oneOf"]:
        definition = schema["$defs"][branch["$ref"].rsplit("/", 1)[-1]]
        branch_validator = Draft202012Validator({"$defs": schema["$defs"], "$ref": branch["$ref"]})
        for wire_type in type_values(definition):
            validators[wire_type] = branch_validator
    return validators


@pytest.fixture
def assert_valid(
    validator: Draft202012Validator, branch_validators: dict[str, Draft202012Validator]
) -> Check:
    """Validate ``wrap(message)``; on failure show the best_match error of its type's branch."""

    def check(message: dict[str, Any]) -> None:
        root_error = best_match(validator.iter_errors(p.wrap(message)))
        if root_error is None:
            return
        error = root_error
        branch = branch_validators.get(str(message.get("type")))
        if branch is not None:
            error = best_match(branch.iter_errors(message)) or root_error
        path = "$.message" + error.json_path[1:] if error is not root_error else error.json_path
        schema_path = "/".join(str(part) for part in error.schema_path)
        pytest.fail(
            f"{message.get('type')!r} payload is invalid at {path}: "
            f"{error.message[:300]} (schema path {schema_path})",
            pytrace=False,
        )

    return check


def type_values(definition: dict[str, Any]) -> set[str]:
    type_schema = definition["properties"]["type"]
    values = set(type_schema.get("enum", []))
    if "const" in type_schema:
        values.add(type_schema["const"])
    return values


def root_types(schema: dict[str, Any]) -> set[str]:
    """Every ``type`` value accepted by a branch of the root ``message`` oneOf."""
    types: set[str] = set()
    for branch in schema["$defs"]["ServerMessage"]["properties"]["message"]["oneOf"]:
        types |= type_values(schema["$defs"][branch["$ref"].rsplit("/", 1)[-1]])
    return types


def test_every_schema_type_has_a_factory(schema: dict[str, Any]) -> None:
    types = root_types(schema)
    assert len(types) >= 30
    assert types - set(p.FACTORIES) == set()
    assert types == set(p.FACTORIES) - NO_SCHEMA_TYPES


@pytest.mark.parametrize("wire_type", SCHEMA_TYPES)
@pytest.mark.parametrize("timestamp_as", ["ms", "iso"])
def test_defaults_are_schema_valid(assert_valid: Check, wire_type: str, timestamp_as: str) -> None:
    message = p.FACTORIES[wire_type](timestamp_as=timestamp_as)
    assert message["type"] == wire_type
    assert_valid(message)


VARIATIONS: dict[str, Callable[[], dict[str, Any]]] = {
    "tool-calls object args": lambda: p.make_tool_calls(arguments_as="object"),
    "tool-calls 5 calls": lambda: p.make_tool_calls(*FIVE_CALLS),
    "tool-calls 5 calls object": lambda: p.make_tool_calls(*FIVE_CALLS, arguments_as="object"),
    "tool-calls explicit id": lambda: p.make_tool_calls(("transferCall", {}, "call_abc")),
    "status ended": lambda: p.make_status_update(status="ended"),
    "status ended iso": lambda: p.make_status_update(status="ended", timestamp_as="iso"),
    "status forwarding": lambda: p.make_status_update(status="forwarding"),
    "status ringing": lambda: p.make_status_update(status="ringing"),
    "status queued": lambda: p.make_status_update(status="queued"),
    "transcript partial": lambda: p.make_transcript(transcript_type="partial"),
    "transcript assistant": lambda: p.make_transcript(role="assistant"),
    "transcript assistant partial": lambda: p.make_transcript(
        role="assistant", transcript_type="partial"
    ),
    "transcript bracketed type": lambda: p.make_transcript(type=p.TRANSCRIPT_FINAL_TYPE),
    "transcript bracketed assistant": lambda: p.make(p.TRANSCRIPT_FINAL_TYPE, role="assistant"),
    "speech-update user stopped": lambda: p.make_speech_update(status="stopped", role="user"),
    "phone-call-control hang-up": lambda: p.make_phone_call_control(request="hang-up"),
    "transfer-update assistant": lambda: p.make_transfer_update(
        destination={"type": "assistant", "assistantName": "Billing Assistant"}
    ),
    "transfer-update sip": lambda: p.make_transfer_update(
        destination={"type": "sip", "sipUri": "sip:frontdesk@clinic.example.com"}
    ),
    "end-of-call-report legacy fields": lambda: p.make_end_of_call_report(legacy_fields=True),
    "end-of-call-report silence": lambda: p.make_end_of_call_report(
        ended_reason="silence-timed-out", messages=3
    ),
    "model-output tool-call chunk": lambda: p.make_model_output(
        output={"toolCalls": [{"id": p.tool_call_id(0)}]}
    ),
    "model-output string token": lambda: p.make_model_output(output_as="string"),
    "assistant version": lambda: p.make_hang(assistant_version="v3"),
    "explicit history": lambda: p.make_conversation_update(
        messages=p.make_end_of_call_report(messages=12)["artifact"]["messages"]
    ),
}


@pytest.mark.parametrize("name", sorted(VARIATIONS))
def test_variations_are_schema_valid(assert_valid: Check, name: str) -> None:
    assert_valid(VARIATIONS[name]())


@pytest.mark.parametrize("count", [0, 1, 2, 7, 40])
@pytest.mark.parametrize("kind", sorted(HISTORY_FACTORIES))
def test_history_variations_are_schema_valid(assert_valid: Check, kind: str, count: int) -> None:
    assert_valid(HISTORY_FACTORIES[kind](messages=count))


@pytest.mark.parametrize(
    ("message", "path"),
    [
        (p.make_speech_update(role="robot"), "$.message.role"),
        (p.make_end_of_call_report(analysis="great"), "$.message.analysis"),
        (p.make_end_of_call_report(artifact=None), "$.message"),
        (p.make_tool_calls(tool_call_list=[{"id": "call_1"}]), "$.message.toolCallList[0]"),
        (p.make_hang(call={"id": "x"}), "$.message.call"),
    ],
)
def test_validation_failure_reports_the_path(
    assert_valid: Check, message: dict[str, Any], path: str
) -> None:
    with pytest.raises(pytest.fail.Exception, match=f"invalid at {re.escape(path)}:"):
        assert_valid(message)


# --------------------------------------------------------------------------- registry


def test_factories_cover_exactly_the_listed_types() -> None:
    assert set(p.FACTORIES) == LISTED_TYPES | {p.TRANSCRIPT_FINAL_TYPE}
    for wire_type, factory in p.FACTORIES.items():
        assert factory()["type"] == wire_type
        assert p.make(wire_type)["type"] == wire_type


def test_factory_names_follow_the_wire_types() -> None:
    for wire_type, factory in p.FACTORIES.items():
        if wire_type == p.TRANSCRIPT_FINAL_TYPE:
            continue
        snake = wire_type.replace("-", "_").replace(".", "_")
        snake = "".join("_" + c.lower() if c.isupper() else c for c in snake)
        assert factory.__name__ == f"make_{snake}"
        assert factory.__doc__


def test_make_unknown_type_returns_a_generic_message() -> None:
    message = p.make("some.future-type", brand_new_field=1, timestamp_as="iso")
    assert message["type"] == "some.future-type"
    assert message["brandNewField"] == 1
    assert isinstance(message["timestamp"], str)
    assert message["call"]["id"] == p.CALL_ID
    assert {"customer", "phoneNumber", "assistant"} <= set(message)


def test_make_passes_keywords_to_the_factory() -> None:
    message = p.make("end-of-call-report", ended_reason="silence-timed-out", messages=3)
    assert message["endedReason"] == "silence-timed-out"
    assert len(message["artifact"]["messages"]) == 3


def test_wrap() -> None:
    message = p.make_hang()
    assert p.wrap(message) == {"message": message}


# --------------------------------------------------------------------------- overrides


def test_camel() -> None:
    assert p.camel("ended_reason") == "endedReason"
    assert p.camel("inbound_phone_call_debugging_artifacts") == (
        "inboundPhoneCallDebuggingArtifacts"
    )
    assert p.camel("messages_openai_formatted") == "messagesOpenAIFormatted"
    assert p.camel("timestamp") == "timestamp"
    assert p.camel("alreadyCamel") == "alreadyCamel"


def test_keyword_overrides_land_under_camel_case_keys() -> None:
    message = p.make_end_of_call_report(
        ended_reason="customer-ended-call",
        messages=40,
        assistant_version="v3",
        messages_openai_formatted=[],
        startedAt="2026-01-01T00:00:00.000Z",
    )
    assert message["endedReason"] == "customer-ended-call"
    assert message["call"]["endedReason"] == "customer-ended-call"
    assert message["assistantVersion"] == "v3"
    assert message["messagesOpenAIFormatted"] == []
    assert message["startedAt"] == "2026-01-01T00:00:00.000Z"
    assert "ended_reason" not in message and "assistant_version" not in message


def test_main_field_keywords() -> None:
    assert p.make_model_output(turn_id="t-1")["turnId"] == "t-1"
    assert p.make_user_interrupted(turn_id="t-1")["turnId"] == "t-1"
    assert p.make_voice_request(sample_rate=8000)["sampleRate"] == 8000
    assert p.make_voice_request(text="Hi")["text"] == "Hi"
    assert p.make_language_change_detected(language="fr")["language"] == "fr"
    assert p.make_voice_input(input="Hello")["input"] == "Hello"
    assert p.make_handoff_destination_request(parameters={"x": 1})["parameters"] == {"x": 1}
    predial = p.make_campaign_predial(campaign_id="camp-1")
    assert predial["campaignId"] == "camp-1" == predial["contact"]["campaignId"]
    speech = p.make_assistant_speech_started(text="One two three four", turn=4)
    assert (speech["text"], speech["turn"]) == ("One two three four", 4)
    assert speech["timing"]["totalWords"] == 4
    upload = p.make_call_artifact_upload(artifacts=[{"type": "pcap", "success": False}])
    assert upload["artifacts"] == [{"type": "pcap", "success": False}]


def test_none_removes_a_key() -> None:
    message = p.make_tool_calls(call=None, phone_number=None, assistant=None)
    assert not {"call", "phoneNumber", "assistant"} & set(message)
    assert "turnId" not in p.make_model_output(turn_id=None)
    assert "destination" not in p.make_status_update(status="forwarding", destination=None)
    assert "endedReason" not in p.make_status_update(status="ended", ended_reason=None)
    assert "timing" not in p.make_assistant_speech_started(timing=None)
    assert "not_there" not in p.make_hang(not_there=None)


def test_arbitrary_keys_are_added() -> None:
    message = p.make_transcript(confidence=0.93, confidence_source="provider")
    assert message["confidence"] == 0.93
    assert message["confidenceSource"] == "provider"


def test_timestamps() -> None:
    before = time.time() * 1000
    message = p.make_hang()
    assert isinstance(message["timestamp"], int)
    assert before - 1000 <= message["timestamp"] <= time.time() * 1000 + 1000
    iso = p.make_hang(timestamp_as="iso")["timestamp"]
    assert iso.endswith("Z")
    parsed = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    assert abs(parsed.timestamp() * 1000 - before) < 5000
    with pytest.raises(ValueError, match="timestamp_as"):
        p.make_hang(timestamp_as="seconds")


# --------------------------------------------------------------------------- common fields


def test_common_fields_and_ids() -> None:
    message = p.make_speech_update()
    assert message["call"]["id"] == p.CALL_ID
    assert message["call"]["orgId"] == p.ORG_ID
    assert message["call"]["assistantId"] == p.ASSISTANT_ID
    assert message["call"]["phoneNumberId"] == p.PHONE_NUMBER_ID
    assert message["call"]["status"] == "in-progress"
    assert message["call"]["type"] == "inboundPhoneCall"
    assert message["call"]["phoneCallProvider"] == "twilio"
    assert message["customer"] == {"number": p.CUSTOMER_NUMBER}
    assert message["phoneNumber"]["id"] == p.PHONE_NUMBER_ID
    assert message["phoneNumber"]["provider"] == "twilio"
    assert message["assistant"]["name"] == p.ASSISTANT_NAME
    assert message["assistant"]["model"]["provider"] == "openai"
    assert message["assistant"]["model"]["messages"][0]["role"] == "system"


def test_assistant_request_has_no_assistant() -> None:
    message = p.make_assistant_request()
    assert "assistant" not in message
    assert message["call"]["status"] == "ringing"
    assert "assistantId" not in message["call"]
    assert "assistantId" not in message["phoneNumber"]
    assert message["customer"]["number"] == p.CUSTOMER_NUMBER


@pytest.mark.parametrize(
    ("factory", "key"),
    [
        (p.make_chat_created, "chat"),
        (p.make_chat_deleted, "chat"),
        (p.make_session_created, "session"),
        (p.make_session_updated, "session"),
        (p.make_session_deleted, "session"),
        (p.make_campaign_predial, "contact"),
    ],
)
def test_non_call_events_have_no_call(factory: Callable[..., dict[str, Any]], key: str) -> None:
    message = factory()
    assert "call" not in message
    assert message[key]["orgId"] == p.ORG_ID


def test_status_update_variants() -> None:
    in_progress = p.make_status_update()
    assert in_progress["status"] == "in-progress"
    assert "endedReason" not in in_progress and "destination" not in in_progress
    ended = p.make_status_update(status="ended")
    assert ended["endedReason"] == "customer-ended-call"
    assert ended["call"]["status"] == "ended"
    assert ended["call"]["endedReason"] == "customer-ended-call"
    custom = p.make_status_update(status="ended", ended_reason="silence-timed-out")
    assert custom["endedReason"] == "silence-timed-out"
    forwarding = p.make_status_update(status="forwarding", messages=9)
    assert forwarding["destination"]["type"] == "number"
    assert len(forwarding["messages"]) == 9
    assert len(forwarding["messagesOpenAIFormatted"]) == 9
    assert forwarding["transcript"].startswith("AI: ")
    assert forwarding["summary"]
    ringing = p.make_status_update(status="ringing")
    assert ringing["call"]["status"] == "ringing"
    assert "startedAt" not in ringing["call"]


def test_transcript_variants() -> None:
    user = p.make_transcript()
    assert (user["role"], user["transcriptType"]) == ("user", "final")
    assert "assistantId" not in user
    partial = p.make_transcript(transcript_type="partial")
    assert user["transcript"].startswith(partial["transcript"])
    assert len(partial["transcript"]) < len(user["transcript"])
    bot = p.make_transcript(role="assistant", transcript="Hello there")
    assert bot["transcript"] == "Hello there"
    assert bot["assistantId"] == p.ASSISTANT_ID
    bracketed = p.make(p.TRANSCRIPT_FINAL_TYPE)
    assert bracketed["type"] == 'transcript[transcriptType="final"]'
    assert bracketed["transcriptType"] == "final"


def test_phone_call_control_and_transfer_update() -> None:
    assert p.make_phone_call_control()["destination"]["number"] == p.FRONT_DESK_NUMBER
    hang_up = p.make_phone_call_control(request="hang-up")
    assert hang_up["request"] == "hang-up" and "destination" not in hang_up
    number = p.make_transfer_update()
    assert number["destination"]["type"] == "number"
    assert "toAssistant" not in number
    to_assistant = p.make_transfer_update(
        destination={"type": "assistant", "assistantName": "Billing Assistant"}
    )
    assert to_assistant["toAssistant"]["name"] == "Billing Assistant"
    assert to_assistant["fromAssistant"]["name"] == p.ASSISTANT_NAME


# --------------------------------------------------------------------------- history


@pytest.mark.parametrize("count", [0, 1, 2, 6, 15, 40, 101])
def test_messages_count_and_consistency(count: int) -> None:
    message = p.make_end_of_call_report(ended_reason="customer-ended-call", messages=count)
    artifact = message["artifact"]
    history, openai = artifact["messages"], artifact["messagesOpenAIFormatted"]
    assert len(history) == count
    assert len(openai) == count
    role_map = {
        "system": "system",
        "bot": "assistant",
        "user": "user",
        "tool_calls": "assistant",
        "tool_call_result": "tool",
    }
    for item, converted in zip(history, openai):
        assert converted["role"] == role_map[item["role"]]
        if item["role"] in ("system", "bot", "user"):
            assert converted["content"] == item["message"]
    spoken = [item for item in history if item["role"] in ("bot", "user")]
    lines = artifact["transcript"].splitlines()
    assert len(lines) == len(spoken)
    for item, line in zip(spoken, lines):
        assert line == f"{'AI' if item['role'] == 'bot' else 'User'}: {item['message']}"
    times = [item["time"] for item in history]
    assert times == sorted(times)
    if count:
        assert history[0]["role"] == "system"
        assert message["startedAt"] <= message["endedAt"]


def test_history_shape() -> None:
    history = p.make_conversation_update(messages=40)["messages"]
    roles = [item["role"] for item in history]
    assert roles[:3] == ["system", "bot", "user"]
    spoken = [role for role in roles if role in ("bot", "user")]
    assert all(a != b for a, b in zip(spoken, spoken[1:])), "bot and user turns alternate"
    assert "tool_calls" in roles and "tool_call_result" in roles
    ids = set()
    for index, item in enumerate(history):
        if item["role"] == "tool_calls":
            call = item["toolCalls"][0]
            assert isinstance(call["function"]["arguments"], str)
            json.loads(call["function"]["arguments"])
            ids.add(call["id"])
            if index + 1 == len(history):
                continue  # the model's last request is still pending
            result = history[index + 1]
            assert result["role"] == "tool_call_result"
            assert result["toolCallId"] == call["id"]
            assert result["name"] == call["function"]["name"]
    assert len(ids) == roles.count("tool_calls")


@pytest.mark.parametrize("kind", sorted(HISTORY_FACTORIES))
def test_every_history_type_honours_messages(kind: str) -> None:
    message = HISTORY_FACTORIES[kind](messages=13)
    history = message["artifact"]["messages"] if "artifact" in message else message["messages"]
    assert len(history) == 13
    assert len(message.get("messagesOpenAIFormatted", history)) == 13


def test_conversation_update_top_level_and_artifact_agree() -> None:
    message = p.make_conversation_update(messages=8)
    assert message["messages"] == message["artifact"]["messages"]
    assert message["messagesOpenAIFormatted"] == message["artifact"]["messagesOpenAIFormatted"]
    assert message["messages"] is not message["artifact"]["messages"]


def test_default_history_lengths() -> None:
    assert len(p.make_conversation_update()["messages"]) == 6
    assert len(p.make_end_of_call_report()["artifact"]["messages"]) == 6
    assert p.make_knowledge_base_request()["messages"][-1]["role"] == "user"
    assert p.make_call_endpointing_request()["messages"][-1]["role"] == "user"


def test_explicit_history_is_copied_and_converted() -> None:
    items = [
        {"role": "system", "message": "Be nice.", "time": 1_700_000_000_000, "secondsFromStart": 0},
        {
            "role": "user",
            "message": "Hello?",
            "time": 1_700_000_001_000,
            "endTime": 1_700_000_002_000,
            "secondsFromStart": 1,
        },
    ]
    original = copy.deepcopy(items)
    message = p.make_conversation_update(messages=items)
    assert message["messages"] == original and message["messages"][0] is not items[0]
    assert message["messagesOpenAIFormatted"] == [
        {"role": "system", "content": "Be nice."},
        {"role": "user", "content": "Hello?"},
    ]
    assert items == original


def test_thousand_messages() -> None:
    # No timing threshold here (tests have none): the benchmarks measure speed.
    message = p.make_end_of_call_report(messages=1000)
    artifact = message["artifact"]
    assert len(artifact["messages"]) == len(artifact["messagesOpenAIFormatted"]) == 1000
    ids = [item["toolCalls"][0]["id"] for item in artifact["messages"] if "toolCalls" in item]
    assert len(ids) == len(set(ids)) > 100


# --------------------------------------------------------------------------- tool calls


def test_tool_calls_default() -> None:
    message = p.make_tool_calls()
    [call] = message["toolCallList"]
    [tool] = message["toolWithToolCallList"]
    assert call["function"]["name"] == "bookAppointment"
    arguments = call["function"]["arguments"]
    assert isinstance(arguments, str)  # JSON-encoded, as the current spec types it
    assert json.loads(arguments)["patientName"] == "Maria Gonzalez"
    assert call["id"].startswith("call_") and len(call["id"]) == 29
    assert tool["toolCall"] == call and tool["toolCall"] is not call
    assert tool["type"] == "function" and tool["messages"] == []
    assert tool["function"]["name"] == "bookAppointment"
    parameters = tool["function"]["parameters"]
    assert parameters["type"] == "object"
    assert set(parameters["properties"]) == set(json.loads(arguments))
    pending = message["artifact"]["messages"][-1]
    assert pending["role"] == "tool_calls"
    assert pending["toolCalls"][0]["id"] == call["id"]


def test_tool_calls_ids_echo_and_argument_forms() -> None:
    arguments = {"doctor": "Dr. Patel", "slots": [1, 2], "urgent": False, "fee": 12.5}
    message = p.make_tool_calls(
        ("checkAvailability", arguments, "call_given"), ("bookAppointment", {"time": "10:30"})
    )
    ids = [call["id"] for call in message["toolCallList"]]
    assert ids[0] == "call_given" and re.fullmatch(r"call_[0-9a-f]{24}", ids[1])
    assert [tool["toolCall"]["id"] for tool in message["toolWithToolCallList"]] == ids
    first = message["toolCallList"][0]["function"]["arguments"]
    assert isinstance(first, str) and json.loads(first) == arguments
    nested = message["toolWithToolCallList"][0]["toolCall"]["function"]["arguments"]
    assert json.loads(nested) == arguments
    properties = message["toolWithToolCallList"][0]["function"]["parameters"]["properties"]
    assert properties["slots"] == {"type": "array", "items": {"type": "integer"}}
    assert properties["urgent"] == {"type": "boolean"}
    assert properties["fee"] == {"type": "number"}


def test_five_tool_calls() -> None:
    message = p.make_tool_calls(*FIVE_CALLS)
    assert [call["function"]["name"] for call in message["toolCallList"]] == [
        spec[0] for spec in FIVE_CALLS
    ]
    ids = [call["id"] for call in message["toolCallList"]]
    assert all(re.fullmatch(r"call_[0-9a-f]{24}", id_) for id_ in ids)
    again = [call["id"] for call in p.make_tool_calls(*FIVE_CALLS)["toolCallList"]]
    assert len(set(ids) | set(again)) == 10  # fresh ids from every factory call, as Vapi's


def test_factory_payloads_are_never_identical() -> None:
    # An identical body is a redelivery (VAPI_DEDUPLICATE): two factory calls must differ.
    bodies = {json.dumps(p.make_status_update(status="ended")) for _ in range(50)}
    assert len(bodies) == 50
    assert p.tool_call_id(3) == p.tool_call_id(3) != p.tool_call_id(4)  # to name an id


def test_tool_calls_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="arguments_as"):
        p.make_tool_calls(arguments_as="yaml")
    with pytest.raises(ValueError, match="name, arguments"):
        p.make_tool_calls(("lonely",))  # type: ignore[arg-type]


def test_tool_calls_object_arguments_on_request() -> None:
    arguments = {"doctor": "Dr. Patel", "slots": [1, 2]}
    message = p.make_tool_calls(("checkAvailability", arguments), arguments_as="object")
    listed = message["toolCallList"][0]["function"]["arguments"]
    embedded = message["toolWithToolCallList"][0]["toolCall"]["function"]["arguments"]
    assert listed == embedded == arguments
    # The history keeps the OpenAI form: a JSON string, whatever the request carries.
    pending = message["artifact"]["messages"][-1]["toolCalls"][0]["function"]["arguments"]
    assert json.loads(pending) == arguments


# --------------------------------------------------------------------------- model output


def test_model_output_is_an_object_by_default() -> None:
    message = p.make_model_output(output="Hello ")
    assert message["output"] == {"role": "assistant", "content": "Hello "}
    assert p.make_model_output(output="Hello ", output_as="string")["output"] == "Hello "
    chunk = {"toolCalls": [{"id": "call_1"}]}
    assert p.make_model_output(output=chunk)["output"] == chunk
    assert p.make_model_output(output=chunk, output_as="string")["output"] == chunk
    with pytest.raises(ValueError, match="output_as"):
        p.make_model_output(output_as="bytes")


# --------------------------------------------------------------------------- independence


@pytest.mark.parametrize("wire_type", sorted(p.FACTORIES))
def test_returned_dicts_are_independent(wire_type: str) -> None:
    factory = p.FACTORIES[wire_type]
    first, second = factory(), factory()
    pristine = copy.deepcopy(second)

    def scribble(value: Any) -> None:
        if isinstance(value, dict):
            for key in list(value):
                scribble(value[key])
            value["scribbled"] = True
        elif isinstance(value, list):
            for item in value:
                scribble(item)
            value.append("scribbled")

    scribble(first)
    assert second == pristine


def test_tool_call_arguments_are_not_shared() -> None:
    arguments: dict[str, Any] = {"doctor": "Dr. Patel", "nested": {"a": 1}}
    message = p.make_tool_calls(("checkAvailability", arguments), arguments_as="object")
    listed = message["toolCallList"][0]["function"]["arguments"]
    embedded = message["toolWithToolCallList"][0]["toolCall"]["function"]["arguments"]
    assert listed == embedded == arguments
    assert listed is not embedded and listed is not arguments
    listed["nested"]["a"] = 2
    assert embedded["nested"]["a"] == 1 and arguments["nested"]["a"] == 1


# --------------------------------------------------------------------------- legacy types


def test_function_call_legacy_shape() -> None:
    message = p.make_function_call()
    assert message["type"] == "function-call"
    function_call = message["functionCall"]
    assert function_call["name"] == "bookAppointment"
    assert isinstance(function_call["parameters"], str)
    assert json.loads(function_call["parameters"])["doctor"] == "Dr. Patel"
    assert message["call"]["id"] == p.CALL_ID
    as_object = p.make_function_call(name="lookup", parameters={"q": 1}, parameters_as="object")
    assert as_object["functionCall"] == {"name": "lookup", "parameters": {"q": 1}}
    as_string = p.make_function_call(parameters={"q": 1})
    assert as_string["functionCall"]["parameters"] == '{"q": 1}'


def test_language_changed_and_assistant_started() -> None:
    changed = p.make_language_changed(language="de")
    assert (changed["type"], changed["language"]) == ("language-changed", "de")
    started = p.make_assistant_started()
    assert started["type"] == "assistant.started"
    assert started["newAssistant"]["name"] == p.ASSISTANT_NAME
    assert started["newAssistant"]["model"]["provider"] == "openai"
    replaced = p.make_assistant_started(new_assistant={"name": "Billing Assistant"})
    assert replaced["newAssistant"] == {"name": "Billing Assistant"}
