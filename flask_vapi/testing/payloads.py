"""Realistic Vapi Server URL webhook payloads for tests: one factory per message type."""

from __future__ import annotations

import copy
import datetime
import enum
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Union

__all__ = [
    "ASSISTANT_ID",
    "ASSISTANT_NAME",
    "AUTO",
    "CALL_ID",
    "CAMPAIGN_ID",
    "CHAT_ID",
    "CLINIC_NUMBER",
    "CONTACT_ID",
    "CUSTOMER_ID",
    "CUSTOMER_NUMBER",
    "FACTORIES",
    "FRONT_DESK_NUMBER",
    "ORG_ID",
    "PHONE_NUMBER_ID",
    "SERVER_URL",
    "SESSION_ID",
    "TRANSCRIPT_FINAL_TYPE",
    "TURN_ID",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_CALL_SID",
    "History",
    "ToolCallSpec",
    "camel",
    "make",
    "make_assistant_request",
    "make_assistant_speech_started",
    "make_assistant_started",
    "make_call_artifact_upload",
    "make_call_delete_failed",
    "make_call_deleted",
    "make_call_endpointing_request",
    "make_campaign_predial",
    "make_chat_created",
    "make_chat_deleted",
    "make_conversation_update",
    "make_end_of_call_report",
    "make_function_call",
    "make_handoff_destination_request",
    "make_hang",
    "make_knowledge_base_request",
    "make_language_change_detected",
    "make_language_changed",
    "make_model_output",
    "make_phone_call_control",
    "make_session_created",
    "make_session_deleted",
    "make_session_updated",
    "make_speech_update",
    "make_status_update",
    "make_tool_calls",
    "make_transcript",
    "make_transfer_destination_request",
    "make_transfer_update",
    "make_user_interrupted",
    "make_voice_input",
    "make_voice_request",
    "tool_call_id",
    "wrap",
]

# --------------------------------------------------------------------------- constants

ORG_ID = "73338791-9533-4aa4-ac60-74cd9f77bb44"
CALL_ID = "41460996-f1c6-44a6-8016-64a8bd31f2ce"
ASSISTANT_ID = "64fb020e-ee88-447e-917b-f42df997530d"
PHONE_NUMBER_ID = "6e29920e-6dda-4e4e-b205-007e777f7dcf"
CHAT_ID = "5bfdadad-fd5a-4e17-bf45-85e41d315d29"
SESSION_ID = "399070a6-76aa-40a5-a33e-257ab5320e37"
CAMPAIGN_ID = "6424a7c3-2365-4d75-9afc-5fa91a8b9a54"
CONTACT_ID = "757ded82-7eb2-4f0b-ae1b-de70db350de2"
CUSTOMER_ID = "5da51ec8-2786-4ef2-b452-e60e51237039"
TURN_ID = "6e484639-4519-4d5b-875d-64338821f48d"
TWILIO_ACCOUNT_SID = "AC7fc967c4d3662c4ca9717bfbf94f9bbb"
TWILIO_CALL_SID = "CA60ef7add4d0f9acaec7e56101d9aa21b"
CUSTOMER_NUMBER = "+14155550123"
CLINIC_NUMBER = "+14155550100"
FRONT_DESK_NUMBER = "+14155550188"
ASSISTANT_NAME = "Riverside Clinic Receptionist"
SERVER_URL = "https://clinic.example.com/vapi/webhook"
TRANSCRIPT_FINAL_TYPE = 'transcript[transcriptType="final"]'

_TOOL_IDS = ("09dc9289-1ced-4c29-b4c3-d8c7bdb47794", "a62bcac5-416b-4579-8c12-036f44fa8ea4")
_MONITOR_HOST = "phone-call-websocket.aws-us-west-2-backend-production1.vapi.ai"
_STORAGE = "https://storage.vapi.ai"

_SYSTEM_PROMPT = (
    "You are Riley, the friendly receptionist of Riverside Family Clinic. Help callers book, "
    "reschedule or cancel appointments and answer questions about opening hours and location. "
    "Use the checkAvailability and bookAppointment tools. Never give medical advice; for "
    "emergencies tell the caller to hang up and dial 911."
)
_GREETING = (
    "Thank you for calling Riverside Family Clinic, this is Riley. How can I help you today?"
)
_USER_LINE = "Hi, I'd like to book an appointment with Dr. Patel, please."
_BOT_LINE = "Of course. Could I have your full name and date of birth?"
_SUMMARY = (
    "Maria Gonzalez called to book an appointment with Dr. Patel. The assistant checked "
    "availability and booked Tuesday at 10:30; confirmation RFC-48213."
)
_SERVER_MESSAGES = (
    "conversation-update",
    "end-of-call-report",
    "hang",
    "speech-update",
    "status-update",
    "tool-calls",
    "transfer-destination-request",
    "user-interrupted",
)
_TOOL_DESCRIPTIONS = {
    "bookAppointment": "Book an appointment for a patient with a doctor of the clinic.",
    "checkAvailability": "List free appointment slots of a doctor on a given date.",
    "transferCall": "Transfer the caller to a member of staff.",
}


def _booking_args() -> dict[str, Any]:
    return {
        "patientName": "Maria Gonzalez",
        "dateOfBirth": "1985-03-14",
        "doctor": "Dr. Patel",
        "date": "2026-09-08",
        "time": "10:30",
    }


# A realistic clinic conversation. History item 0 is the system prompt, item 1 the greeting;
# the loop then repeats for as long as needed (user turns alternate with bot turns).
_LOOP: tuple[tuple[str, str, Any], ...] = (
    ("user", _USER_LINE, None),
    ("bot", _BOT_LINE, None),
    ("user", "Maria Gonzalez, March fourteenth, nineteen eighty-five.", None),
    ("bot", "Thank you, Maria. What day would work best for you?", None),
    ("user", "Next Tuesday morning, if possible.", None),
    ("tool_calls", "checkAvailability", {"doctor": "Dr. Patel", "date": "2026-09-08"}),
    ("tool_call_result", "checkAvailability", "Available slots: 09:00, 10:30, 11:15"),
    ("bot", "Dr. Patel is free at nine, ten thirty or eleven fifteen on Tuesday. Which one?", None),
    ("user", "Ten thirty works for me.", None),
    ("tool_calls", "bookAppointment", _booking_args()),
    ("tool_call_result", "bookAppointment", "Booked. Confirmation number RFC-48213."),
    ("bot", "You're all set for Tuesday at ten thirty with Dr. Patel. Anything else?", None),
    ("user", "Do I need to bring anything?", None),
    ("bot", "Please bring your insurance card and a photo ID, and arrive ten minutes early.", None),
)
_GAP_MS = {"bot": 800, "user": 900, "tool_calls": 450, "tool_call_result": 650}
_OPENAI_ROLE = {"system": "system", "bot": "assistant", "user": "user"}
_TRANSCRIPT_LABEL = {"bot": "AI", "user": "User"}


class _Auto(enum.Enum):
    AUTO = "AUTO"

    def __repr__(self) -> str:
        return "AUTO"


AUTO = _Auto.AUTO
"""Default of keywords whose value the factory derives from the other arguments."""

ToolCallSpec = Union[tuple[str, Mapping[str, Any]], tuple[str, Mapping[str, Any], str]]
"""``(name, arguments)`` or ``(name, arguments, tool_call_id)`` for :func:`make_tool_calls`."""

History = Union[int, Sequence[Mapping[str, Any]]]
"""``messages=``: how many history items to generate, or the Vapi history items themselves."""

_CAMEL_EXCEPTIONS = {
    "messages_openai_formatted": "messagesOpenAIFormatted",
    "messages_open_ai_formatted": "messagesOpenAIFormatted",
}


# --------------------------------------------------------------------------- helpers


def camel(name: str) -> str:
    """Return the camelCase wire key of a keyword: ``ended_reason`` -> ``endedReason``."""
    if name in _CAMEL_EXCEPTIONS:
        return _CAMEL_EXCEPTIONS[name]
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wrap(message: dict[str, Any]) -> dict[str, Any]:
    """Return the request body Vapi POSTs for ``message``: ``{"message": message}``."""
    return {"message": message}


def tool_call_id(index: int) -> str:
    """Return the deterministic default id of the ``index``-th call of :func:`make_tool_calls`."""
    return _fake_id("tool-call", index)


def _fake_id(namespace: str, index: int) -> str:
    return "call_" + hashlib.sha256(f"{namespace}:{index}".encode()).hexdigest()[:24]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _iso(ms: float) -> str:
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _finish(
    message: dict[str, Any], timestamp_as: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """Apply ``timestamp_as`` and the keyword fields (camelCased; None removes the key)."""
    if timestamp_as == "iso":
        message["timestamp"] = _iso(message["timestamp"])
    elif timestamp_as != "ms":
        raise ValueError(f"timestamp_as must be 'ms' or 'iso', not {timestamp_as!r}")
    for name, value in fields.items():
        key = camel(name)
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
    return message


def _auto(value: Any, default: Callable[[], Any]) -> Any:
    return default() if value is AUTO else value


# --------------------------------------------------------------------------- shared objects


def _customer() -> dict[str, Any]:
    return {"number": CUSTOMER_NUMBER}


def _server(path: str = "") -> dict[str, Any]:
    return {"url": SERVER_URL + path, "timeoutSeconds": 20}


def _phone_number(*, with_assistant: bool = True) -> dict[str, Any]:
    number: dict[str, Any] = {
        "id": PHONE_NUMBER_ID,
        "orgId": ORG_ID,
        "provider": "twilio",
        "number": CLINIC_NUMBER,
        "name": "Riverside Clinic Main Line",
        "twilioAccountSid": TWILIO_ACCOUNT_SID,
        "status": "active",
        "createdAt": "2025-11-03T16:20:11.482Z",
        "updatedAt": "2026-05-21T09:12:47.905Z",
    }
    if with_assistant:
        number["assistantId"] = ASSISTANT_ID
    else:  # no assistant on the number: Vapi sends an assistant-request to its server
        number["server"] = _server()
    return number


def _assistant(**extra: Any) -> dict[str, Any]:
    assistant: dict[str, Any] = {
        "name": ASSISTANT_NAME,
        "firstMessage": _GREETING,
        "firstMessageMode": "assistant-speaks-first",
        "model": {
            "provider": "openai",
            "model": "gpt-4o",
            "temperature": 0.3,
            "maxTokens": 250,
            "messages": [{"role": "system", "content": _SYSTEM_PROMPT}],
            "toolIds": list(_TOOL_IDS),
        },
        "voice": {"provider": "11labs", "voiceId": "sarah", "model": "eleven_turbo_v2_5"},
        "transcriber": {"provider": "deepgram", "model": "nova-3", "language": "en"},
        "serverMessages": list(_SERVER_MESSAGES),
        "endCallPhrases": ["goodbye", "have a great day"],
        "maxDurationSeconds": 900,
        "server": _server(),
    }
    assistant.update(extra)
    return assistant


def _destination_number() -> dict[str, Any]:
    return {
        "type": "number",
        "number": FRONT_DESK_NUMBER,
        "message": "Please hold while I transfer you to our front desk.",
        "description": "Clinic front desk",
    }


def _call(
    status: str,
    start_ms: int,
    now_ms: int,
    *,
    ended_reason: str | None = None,
    ended_ms: int | None = None,
    with_assistant: bool = True,
) -> dict[str, Any]:
    call: dict[str, Any] = {
        "id": CALL_ID,
        "orgId": ORG_ID,
        "createdAt": _iso(start_ms - 1800),
        "updatedAt": _iso(now_ms),
        "type": "inboundPhoneCall",
        "status": status,
        "phoneCallProvider": "twilio",
        "phoneCallTransport": "pstn",
        "phoneCallProviderId": TWILIO_CALL_SID,
        "transport": {
            "provider": "twilio",
            "conversationType": "voice",
            "accountSid": TWILIO_ACCOUNT_SID,
            "callSid": TWILIO_CALL_SID,
        },
        "phoneNumberId": PHONE_NUMBER_ID,
        "customer": _customer(),
        "monitor": {
            "listenUrl": f"wss://{_MONITOR_HOST}/{CALL_ID}/listen",
            "controlUrl": f"https://{_MONITOR_HOST}/{CALL_ID}/control",
        },
    }
    if with_assistant:
        call["assistantId"] = ASSISTANT_ID
    if status not in ("scheduled", "queued", "ringing"):
        call["startedAt"] = _iso(start_ms)
    if ended_ms is not None:
        call["endedAt"] = _iso(ended_ms)
    if ended_reason is not None:
        call["endedReason"] = ended_reason
    return call


def _call_message(
    type_: str,
    fields: Mapping[str, Any],
    *,
    now_ms: int | None = None,
    start_ms: int | None = None,
    status: str = "in-progress",
    ended_reason: str | None = None,
    ended_ms: int | None = None,
    assistant: dict[str, Any] | None = None,
    artifact: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a call-bound message: type, its fields (None: left out), then the common fields."""
    now = _now_ms() if now_ms is None else now_ms
    start = now - 42_000 if start_ms is None else start_ms
    message: dict[str, Any] = {"type": type_}
    message.update((key, value) for key, value in fields.items() if value is not None)
    message["timestamp"] = now
    message["call"] = _call(status, start, now, ended_reason=ended_reason, ended_ms=ended_ms)
    message["phoneNumber"] = _phone_number()
    message["customer"] = _customer()
    message["assistant"] = _assistant() if assistant is None else assistant
    if artifact is not None:
        message["artifact"] = artifact
    return message


def _call_event(
    type_: str,
    timestamp_as: str,
    overrides: Mapping[str, Any],
    fields: Mapping[str, Any] | None = None,
    **context: Any,
) -> dict[str, Any]:
    """A finished call-bound message; ``context`` goes to :func:`_call_message`."""
    return _finish(_call_message(type_, fields or {}, **context), timestamp_as, overrides)


def _plain_event(
    type_: str, timestamp_as: str, overrides: Mapping[str, Any], fields: Mapping[str, Any]
) -> dict[str, Any]:
    """A finished message that is not about a call (chats, sessions, campaigns)."""
    message = {"type": type_, **{k: v for k, v in fields.items() if v is not None}}
    message["timestamp"] = _now_ms()
    return _finish(message, timestamp_as, overrides)


# --------------------------------------------------------------------------- history


class _History(NamedTuple):
    messages: list[dict[str, Any]]
    openai: list[dict[str, Any]]
    transcript: str
    start_ms: int


def _speech_ms(text: str) -> int:
    return 250 + 330 * len(text.split())


def _generate(count: int, end_ms: int) -> tuple[list[dict[str, Any]], int]:
    """Generate ``count`` Vapi history items ending at ``end_ms``; return them and the start."""
    items: list[dict[str, Any]] = []
    t = 0
    calls = 0
    last_id = ""
    for i in range(count):
        if i == 0:
            system = {"role": "system", "message": _SYSTEM_PROMPT, "time": 0, "secondsFromStart": 0}
            items.append(system)
            continue
        role, text, payload = ("bot", _GREETING, None) if i == 1 else _LOOP[(i - 2) % len(_LOOP)]
        t += 1500 if i == 1 else _GAP_MS[role]
        item: dict[str, Any] = {"role": role}
        if role == "tool_calls":
            last_id = _fake_id("history", calls)
            calls += 1
            function = {"name": text, "arguments": json.dumps(payload)}
            item.update(toolCalls=[{"id": last_id, "type": "function", "function": function}])
            item.update(message="", time=t)
        elif role == "tool_call_result":
            item.update(toolCallId=last_id, name=text, result=payload, time=t)
        else:
            duration = _speech_ms(text)
            item.update(message=text, time=t, endTime=t + duration)
            if role == "bot":
                item["source"] = ""
            item["duration"] = duration / 1000
            t += duration
        item["secondsFromStart"] = item["time"] / 1000
        items.append(item)
    start = end_ms - t
    for item in items:
        item["time"] += start
        if "endTime" in item:
            item["endTime"] += start
    return items, start


def _to_openai(item: Mapping[str, Any]) -> dict[str, Any] | None:
    role = item.get("role")
    if role in _OPENAI_ROLE:
        return {"role": _OPENAI_ROLE[role], "content": item.get("message", "")}
    if role == "tool_calls":
        calls = copy.deepcopy(item.get("toolCalls", []))
        return {"role": "assistant", "content": "", "tool_calls": calls}
    if role == "tool_call_result":
        return {
            "role": "tool",
            "tool_call_id": item.get("toolCallId"),
            "content": item.get("result"),
        }
    return None


def _history(source: History, end_ms: int) -> _History:
    """History for ``messages=``: a count to generate, or explicit Vapi history items."""
    if isinstance(source, int):
        if source < 0:
            raise ValueError("messages must be >= 0")
        items, start = _generate(source, end_ms)
    else:
        items = [copy.deepcopy(dict(item)) for item in source]
        start = int(items[0].get("time", end_ms - 42_000)) if items else end_ms - 42_000
    openai = [converted for item in items if (converted := _to_openai(item)) is not None]
    lines = [
        f"{_TRANSCRIPT_LABEL[item['role']]}: {item.get('message', '')}\n"
        for item in items
        if item.get("role") in _TRANSCRIPT_LABEL
    ]
    return _History(items, openai, "".join(lines), start)


def _pending_tool_calls_artifact(
    tool_calls: Sequence[Mapping[str, Any]], now_ms: int
) -> tuple[dict[str, Any], int]:
    """Artifact of a call whose model just requested ``tool_calls``; returns it and the start."""
    history = _history(5, now_ms - 700)
    openai_calls = []
    for call in tool_calls:
        function = call["function"]
        arguments = function["arguments"]
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        fn = {"name": function["name"], "arguments": arguments}
        openai_calls.append({"id": call["id"], "type": "function", "function": fn})
    pending = {
        "role": "tool_calls",
        "toolCalls": openai_calls,
        "message": "",
        "time": now_ms - 200,
        "secondsFromStart": (now_ms - 200 - history.start_ms) / 1000,
    }
    history.messages.append(pending)
    history.openai.append(
        {"role": "assistant", "content": "", "tool_calls": copy.deepcopy(openai_calls)}
    )
    artifact = {"messages": history.messages, "messagesOpenAIFormatted": history.openai}
    return artifact, history.start_ms


# --------------------------------------------------------------------------- call messages


def make_assistant_request(*, timestamp_as: str = "ms", **overrides: Any) -> dict[str, Any]:
    """``assistant-request``: a ringing inbound call to a number that has no assistant."""
    now = _now_ms()
    message: dict[str, Any] = {"type": "assistant-request", "timestamp": now}
    message["call"] = _call("ringing", now - 300, now, with_assistant=False)
    message["phoneNumber"] = _phone_number(with_assistant=False)
    message["customer"] = _customer()
    return _finish(message, timestamp_as, overrides)


def make_conversation_update(
    *, messages: History = 6, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``conversation-update`` with ``messages`` history items, also in ``artifact``."""
    now = _now_ms()
    history = _history(messages, now - 400)
    fields = {"messages": history.messages, "messagesOpenAIFormatted": history.openai}
    artifact = {**copy.deepcopy(fields), "transcript": history.transcript}
    context: dict[str, Any] = {"now_ms": now, "start_ms": history.start_ms, "artifact": artifact}
    return _call_event("conversation-update", timestamp_as, overrides, fields, **context)


def _costs(minutes: float) -> list[dict[str, Any]]:
    def model() -> dict[str, Any]:
        return {"provider": "openai", "model": "gpt-4o"}

    return [
        {
            "type": "transport",
            "provider": "twilio",
            "minutes": minutes,
            "cost": round(0.0085 * minutes, 5),
        },
        {
            "type": "transcriber",
            "transcriber": {"provider": "deepgram", "model": "nova-3"},
            "minutes": minutes,
            "cost": round(0.01 * minutes, 5),
        },
        {
            "type": "model",
            "model": model(),
            "promptTokens": 5812,
            "completionTokens": 214,
            "cost": 0.01667,
        },
        {
            "type": "voice",
            "voice": {"provider": "11labs", "voiceId": "sarah"},
            "characters": 642,
            "cost": 0.0231,
        },
        {"type": "vapi", "subType": "normal", "minutes": minutes, "cost": round(0.05 * minutes, 5)},
        {
            "type": "analysis",
            "analysisType": "summary",
            "model": model(),
            "promptTokens": 1024,
            "completionTokens": 58,
            "cost": 0.00314,
        },
    ]


def _recording_artifact(ended_ms: int) -> dict[str, Any]:
    base = f"{_STORAGE}/{CALL_ID}-{ended_ms}"
    return {
        "recordingUrl": f"{base}-mono.wav",
        "stereoRecordingUrl": f"{base}-stereo.wav",
        "recording": {
            "stereoUrl": f"{base}-stereo.wav",
            "mono": {
                "combinedUrl": f"{base}-mono.wav",
                "assistantUrl": f"{base}-assistant.wav",
                "customerUrl": f"{base}-customer.wav",
            },
        },
        "logUrl": f"{_STORAGE}/log/{CALL_ID}.jsonl.gz",
        "performanceMetrics": {
            "turnLatencies": [],
            "modelLatencyAverage": 612,
            "voiceLatencyAverage": 284,
            "transcriberLatencyAverage": 198,
            "endpointingLatencyAverage": 410,
            "turnLatencyAverage": 1504,
        },
    }


def make_end_of_call_report(
    *,
    ended_reason: str | None = "customer-ended-call",
    messages: History = 6,
    legacy_fields: bool = False,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``end-of-call-report``: artifact (history, transcript, recordings), costs and analysis.

    ``legacy_fields=True`` adds the pre-2025 top-level ``transcript``, ``summary``,
    ``messages``, ``recordingUrl`` and ``stereoRecordingUrl``.
    """
    now = _now_ms()
    ended = now - 3000
    history = _history(messages, ended - 600)
    start = min(history.start_ms, ended - 5000)
    minutes = round((ended - start) / 60_000, 4)
    costs = _costs(minutes)
    cost = round(sum(item["cost"] for item in costs), 4)
    artifact = {
        "messages": history.messages,
        "messagesOpenAIFormatted": history.openai,
        "transcript": history.transcript,
        **_recording_artifact(ended),
    }
    fields: dict[str, Any] = {
        "endedReason": ended_reason,
        "cost": cost,
        "costs": costs,
        "analysis": {"summary": _SUMMARY, "successEvaluation": "true"},
        "artifact": artifact,
        "startedAt": _iso(start),
        "endedAt": _iso(ended),
        "durationMs": ended - start,
        "durationSeconds": (ended - start) / 1000,
        "durationMinutes": minutes,
    }
    if legacy_fields:
        fields.update(
            transcript=history.transcript,
            summary=_SUMMARY,
            messages=copy.deepcopy(history.messages),
            recordingUrl=artifact["recordingUrl"],
            stereoRecordingUrl=artifact["stereoRecordingUrl"],
        )
    message = _call_message(
        "end-of-call-report",
        fields,
        now_ms=now,
        start_ms=start,
        status="ended",
        ended_reason=ended_reason,
        ended_ms=ended,
    )
    message["call"]["cost"] = cost
    return _finish(message, timestamp_as, overrides)


def make_handoff_destination_request(
    *, parameters: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``handoff-destination-request``: ``parameters`` are the handoff tool's LLM arguments."""
    default = {"department": "billing", "reason": "Question about an outstanding invoice"}
    fields = {"parameters": default if parameters is AUTO else parameters}
    return _call_event("handoff-destination-request", timestamp_as, overrides, fields)


def make_hang(*, timestamp_as: str = "ms", **overrides: Any) -> dict[str, Any]:
    """``hang``: the assistant has been silent for too long."""
    return _call_event("hang", timestamp_as, overrides)


def _history_event(
    type_: str, messages: History, timestamp_as: str, overrides: Mapping[str, Any], **extra: Any
) -> dict[str, Any]:
    """A message with a conversation history; ``extra`` edits the assistant."""
    now = _now_ms()
    history = _history(messages, now - 150)
    fields = {"messages": history.messages, "messagesOpenAIFormatted": history.openai}
    context: dict[str, Any] = {
        "now_ms": now,
        "start_ms": history.start_ms,
        "assistant": _assistant(**extra),
    }
    return _call_event(type_, timestamp_as, overrides, fields, **context)


def make_knowledge_base_request(
    *, messages: History = 5, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``knowledge-base-request`` (custom knowledge base); history ends on the user's turn."""
    model = _assistant()["model"]
    model["knowledgeBase"] = {"provider": "custom-knowledge-base", "server": _server("/kb")}
    return _history_event("knowledge-base-request", messages, timestamp_as, overrides, model=model)


def make_call_endpointing_request(
    *, messages: History = 5, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``call.endpointing.request`` (custom endpointing model); history ends on the user."""
    plan = {"provider": "custom-endpointing-model", "server": _server("/endpointing")}
    speaking = {"smartEndpointingPlan": plan}
    return _history_event(
        "call.endpointing.request", messages, timestamp_as, overrides, startSpeakingPlan=speaking
    )


def make_model_output(
    *,
    output: Any = "Of course. ",
    turn_id: str | None = TURN_ID,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``model-output``: one streamed model token (``output``) of turn ``turn_id``."""
    fields = {"output": output, "turnId": turn_id}
    return _call_event("model-output", timestamp_as, overrides, fields)


def make_phone_call_control(
    *,
    request: str | None = "forward",
    destination: Any = AUTO,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``phone-call-control``: ``request`` forward (to a number destination) or hang-up."""
    if destination is AUTO:
        destination = _destination_number() if request == "forward" else None
    fields = {"request": request, "destination": destination}
    return _call_event("phone-call-control", timestamp_as, overrides, fields)


def make_speech_update(
    *,
    status: str | None = "started",
    role: str | None = "assistant",
    turn: int | None = 1,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``speech-update``: ``role`` started or stopped speaking in ``turn``."""
    fields = {"status": status, "role": role, "turn": turn}
    return _call_event("speech-update", timestamp_as, overrides, fields)


def make_status_update(
    *,
    status: str | None = "in-progress",
    ended_reason: Any = AUTO,
    destination: Any = AUTO,
    messages: History = 6,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``status-update``: ``ended`` adds ``endedReason``, ``forwarding`` the conversation."""
    now = _now_ms()
    if ended_reason is AUTO:
        ended_reason = "customer-ended-call" if status == "ended" else None
    fields: dict[str, Any] = {"status": status, "endedReason": ended_reason}
    start = None
    if status == "forwarding":
        history = _history(messages, now - 500)
        start = history.start_ms
        fields.update(
            messages=history.messages,
            messagesOpenAIFormatted=history.openai,
            destination=_destination_number(),
            transcript=history.transcript,
            summary=_SUMMARY,
        )
    if destination is not AUTO:
        fields["destination"] = destination
    ended = now - 250 if status == "ended" else None
    context: dict[str, Any] = {"status": status or "in-progress", "ended_reason": ended_reason}
    context.update(now_ms=now, start_ms=start, ended_ms=ended)
    return _call_event("status-update", timestamp_as, overrides, fields, **context)


def _parameters_schema(value: Any) -> dict[str, Any]:
    """A loose JSON Schema describing ``value`` (as an LLM tool definition would)."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, Mapping):
        properties = {str(key): _parameters_schema(item) for key, item in value.items()}
        return {"type": "object", "properties": properties, "required": list(properties)}
    if isinstance(value, (list, tuple)):
        return {"type": "array", "items": _parameters_schema(value[0]) if value else {}}
    return {"type": "string"}


def _tool_call(name: str, arguments: Mapping[str, Any], id_: str, as_string: bool) -> Any:
    args: Any = json.dumps(arguments) if as_string else copy.deepcopy(dict(arguments))
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": args}}


def _function_tool(name: str, arguments: Mapping[str, Any], id_: str, as_string: bool) -> Any:
    function = {
        "name": name,
        "description": _TOOL_DESCRIPTIONS.get(name, f"The {name} tool of the clinic."),
        "parameters": _parameters_schema(arguments),
    }
    return {
        "type": "function",
        "function": function,
        "async": False,
        "server": _server("/tools"),
        "messages": [],
        "toolCall": _tool_call(name, arguments, id_, as_string),
    }


def make_tool_calls(
    *calls: ToolCallSpec, arguments_as: str = "object", timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``tool-calls``: each call is ``(name, arguments)`` or ``(name, arguments, id)``.

    Without calls, one ``bookAppointment`` call is made. ``arguments_as="string"`` sends
    ``function.arguments`` JSON-encoded (as the current spec types it) instead of an object.
    """
    if arguments_as not in ("object", "string"):
        raise ValueError(f"arguments_as must be 'object' or 'string', not {arguments_as!r}")
    as_string = arguments_as == "string"
    specs: Sequence[Sequence[Any]] = calls or (("bookAppointment", _booking_args()),)
    tool_call_list, tools = [], []
    for index, spec in enumerate(specs):
        if len(spec) not in (2, 3):
            raise ValueError(f"tool call {index} must be (name, arguments[, id]), not {spec!r}")
        name, arguments = spec[0], spec[1]
        id_ = spec[2] if len(spec) == 3 else tool_call_id(index)
        tool_call_list.append(_tool_call(name, arguments, id_, as_string))
        tools.append(_function_tool(name, arguments, id_, as_string))
    now = _now_ms()
    artifact, start = _pending_tool_calls_artifact(tool_call_list, now)
    fields = {"toolCallList": tool_call_list, "toolWithToolCallList": tools}
    context: dict[str, Any] = {"now_ms": now, "start_ms": start, "artifact": artifact}
    return _call_event("tool-calls", timestamp_as, overrides, fields, **context)


def make_transfer_destination_request(
    *, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``transfer-destination-request``: the model called ``transferCall`` with no destination."""
    now = _now_ms()
    pending = [_tool_call("transferCall", {}, tool_call_id(0), True)]
    artifact, start = _pending_tool_calls_artifact(pending, now)
    context: dict[str, Any] = {"now_ms": now, "start_ms": start, "artifact": artifact}
    return _call_event("transfer-destination-request", timestamp_as, overrides, **context)


def make_transfer_update(
    *, destination: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``transfer-update``; an ``assistant`` destination adds ``toAssistant``/``fromAssistant``."""
    destination = _auto(destination, _destination_number)
    fields: dict[str, Any] = {"destination": destination}
    if isinstance(destination, Mapping) and destination.get("type") == "assistant":
        name = destination.get("assistantName", "Billing Assistant")
        greeting = "Hi, this is the billing desk. How can I help?"
        fields["toAssistant"] = _assistant(name=name, firstMessage=greeting)
        fields["fromAssistant"] = _assistant()
    return _call_event("transfer-update", timestamp_as, overrides, fields)


def make_transcript(
    *,
    transcript: Any = AUTO,
    role: str | None = "user",
    transcript_type: str | None = "final",
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``transcript`` of ``role``; pass ``type=TRANSCRIPT_FINAL_TYPE`` for the bracketed form."""
    if transcript is AUTO:
        words = (_BOT_LINE if role == "assistant" else _USER_LINE).split()
        transcript = " ".join(words[: len(words) // 2] if transcript_type == "partial" else words)
    fields = {"role": role, "transcriptType": transcript_type, "transcript": transcript}
    if role == "assistant":
        fields.update(assistantId=ASSISTANT_ID, assistantName=ASSISTANT_NAME)
    return _call_event("transcript", timestamp_as, overrides, fields)


def make_user_interrupted(
    *, turn_id: str | None = TURN_ID, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``user-interrupted``: the caller talked over turn ``turn_id``."""
    return _call_event("user-interrupted", timestamp_as, overrides, {"turnId": turn_id})


def make_language_change_detected(
    *, language: str | None = "es", timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``language-change-detected``: the transcriber switched to ``language``."""
    return _call_event("language-change-detected", timestamp_as, overrides, {"language": language})


def make_voice_input(
    *, input: str | None = _BOT_LINE, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``voice-input``: ``input`` is the text sent to the voice provider."""
    return _call_event("voice-input", timestamp_as, overrides, {"input": input})


def _word_progress(text: str, spoken: int) -> dict[str, Any]:
    words = text.split()
    spoken = min(spoken, len(words))
    return {
        "type": "word-progress",
        "wordsSpoken": spoken,
        "totalWords": len(words),
        "segment": " ".join(words[:spoken]),
        "segmentDurationMs": 330 * spoken,
        "words": [
            {"word": word, "startMs": 330 * i, "endMs": 330 * i + 290}
            for i, word in enumerate(words[:spoken])
        ],
    }


def make_assistant_speech_started(
    *,
    text: str = _BOT_LINE,
    turn: int | None = 1,
    source: str | None = "model",
    timing: Any = AUTO,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``assistant.speechStarted``: the full ``text`` of the turn plus word-progress ``timing``."""
    timing = _word_progress(text, 3) if timing is AUTO else timing
    fields = {"text": text, "turn": turn, "source": source, "timing": timing}
    return _call_event("assistant.speechStarted", timestamp_as, overrides, fields)


def make_voice_request(
    *,
    text: str | None = _GREETING,
    sample_rate: int | None = 24000,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``voice-request`` (custom voice): synthesize ``text`` at ``sample_rate`` Hz."""
    voice = {"provider": "custom-voice", "server": _server("/tts")}
    fields = {"text": text, "sampleRate": sample_rate}
    assistant = _assistant(voice=voice)
    return _call_event("voice-request", timestamp_as, overrides, fields, assistant=assistant)


def _after_call_event(
    type_: str,
    timestamp_as: str,
    overrides: Mapping[str, Any],
    fields: Mapping[str, Any] | None = None,
    status: str = "ended",
) -> dict[str, Any]:
    """A message about a call that ended ten minutes ago."""
    now = _now_ms()
    context: dict[str, Any] = {"now_ms": now, "start_ms": now - 600_000, "ended_ms": now - 480_000}
    context.update(status=status, ended_reason="customer-ended-call")
    return _call_event(type_, timestamp_as, overrides, fields, **context)


def make_call_deleted(*, timestamp_as: str = "ms", **overrides: Any) -> dict[str, Any]:
    """``call.deleted``: an ended call was deleted."""
    return _after_call_event("call.deleted", timestamp_as, overrides)


def make_call_delete_failed(*, timestamp_as: str = "ms", **overrides: Any) -> dict[str, Any]:
    """``call.delete.failed``: deleting a call failed (call status ``deletion-failed``)."""
    return _after_call_event(
        "call.delete.failed", timestamp_as, overrides, status="deletion-failed"
    )


def make_call_artifact_upload(
    *, artifacts: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``call.artifact.upload``: one ``{type, success}`` per artifact written to your storage."""
    if artifacts is AUTO:
        kinds = ("end-of-call-report", "recording-mono", "recording-stereo", "log")
        artifacts = [{"type": kind, "success": True} for kind in kinds]
    fields = {"artifacts": artifacts}
    return _after_call_event("call.artifact.upload", timestamp_as, overrides, fields)


# --------------------------------------------------------------------------- chats, sessions


def _chat() -> dict[str, Any]:
    now = _now_ms()
    reply = "Yes, Dr. Patel has openings next Tuesday at 9:00, 10:30 and 11:15."
    model_cost = {
        "type": "model",
        "model": {"provider": "openai", "model": "gpt-4o"},
        "promptTokens": 812,
        "completionTokens": 38,
        "cost": 0.0023,
    }
    return {
        "id": CHAT_ID,
        "orgId": ORG_ID,
        "assistantId": ASSISTANT_ID,
        "name": "Website chat",
        "sessionId": SESSION_ID,
        "input": "Do you have any appointments with Dr. Patel next Tuesday?",
        "output": [{"role": "assistant", "content": reply}],
        "createdAt": _iso(now - 2300),
        "updatedAt": _iso(now - 200),
        "cost": 0.0123,
        "costs": [model_cost, {"type": "chat", "cost": 0.01}],
    }


def make_chat_created(
    *, chat: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``chat.created``: carries ``chat`` and no ``call``."""
    return _plain_event("chat.created", timestamp_as, overrides, {"chat": _auto(chat, _chat)})


def make_chat_deleted(
    *, chat: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``chat.deleted``: carries ``chat`` and no ``call``."""
    return _plain_event("chat.deleted", timestamp_as, overrides, {"chat": _auto(chat, _chat)})


def _session(session: Any, status: str, age_ms: int) -> dict[str, Any]:
    if session is not AUTO:
        return {"session": session}
    now = _now_ms()
    default = {
        "id": SESSION_ID,
        "orgId": ORG_ID,
        "name": "Maria Gonzalez follow-up",
        "status": status,
        "expirationSeconds": 86400,
        "assistantId": ASSISTANT_ID,
        "customer": _customer(),
        "phoneNumberId": PHONE_NUMBER_ID,
        "createdAt": _iso(now - age_ms),
        "updatedAt": _iso(now - 100),
        "cost": 0.0,
        "costs": [],
    }
    return {"session": default}


def make_session_created(
    *, session: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``session.created``: carries a new, active ``session``."""
    fields = _session(session, "active", 150)
    return _plain_event("session.created", timestamp_as, overrides, fields)


def make_session_updated(
    *, session: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``session.updated``: carries the updated ``session``."""
    fields = _session(session, "active", 600_000)
    return _plain_event("session.updated", timestamp_as, overrides, fields)


def make_session_deleted(
    *, session: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``session.deleted``: carries the deleted (completed) ``session``."""
    fields = _session(session, "completed", 86_400_000)
    return _plain_event("session.deleted", timestamp_as, overrides, fields)


def make_campaign_predial(
    *,
    campaign_id: str | None = CAMPAIGN_ID,
    contact: Any = AUTO,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``campaign.predial``: may ``contact`` of campaign ``campaign_id`` be dialed? No call."""
    if contact is AUTO:
        contact = {
            "id": CONTACT_ID,
            "campaignId": campaign_id or CAMPAIGN_ID,
            "orgId": ORG_ID,
            "customerId": CUSTOMER_ID,
            "number": CUSTOMER_NUMBER,
            "name": "Maria Gonzalez",
            "createdAt": _iso(_now_ms() - 2 * 86_400_000),
        }
    fields = {"campaignId": campaign_id, "contact": contact}
    return _plain_event("campaign.predial", timestamp_as, overrides, fields)


# --------------------------------------------------------------------------- legacy types


def make_function_call(
    *,
    name: str = "bookAppointment",
    parameters: Any = AUTO,
    parameters_as: str = "string",
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """Legacy ``function-call``: ``functionCall`` {name, parameters (JSON string by default)}."""
    if parameters_as not in ("object", "string"):
        raise ValueError(f"parameters_as must be 'object' or 'string', not {parameters_as!r}")
    parameters = _auto(parameters, _booking_args)
    if parameters_as == "string" and not isinstance(parameters, str):
        parameters = json.dumps(parameters)
    fields = {"functionCall": {"name": name, "parameters": parameters}}
    return _call_event("function-call", timestamp_as, overrides, fields)


def make_language_changed(
    *, language: str | None = "es", timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """Legacy ``language-changed`` (now ``language-change-detected``) with ``language``."""
    return _call_event("language-changed", timestamp_as, overrides, {"language": language})


def make_assistant_started(
    *, new_assistant: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``assistant.started`` (no server schema): ``newAssistant`` is the assistant now active."""
    fields = {"newAssistant": _auto(new_assistant, _assistant)}
    return _call_event("assistant.started", timestamp_as, overrides, fields)


# --------------------------------------------------------------------------- registry


def _make_transcript_final(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("transcript_type", "final")
    kwargs.setdefault("type", TRANSCRIPT_FINAL_TYPE)
    return make_transcript(**kwargs)


FACTORIES: dict[str, Callable[..., dict[str, Any]]] = {
    "assistant-request": make_assistant_request,
    "conversation-update": make_conversation_update,
    "end-of-call-report": make_end_of_call_report,
    "handoff-destination-request": make_handoff_destination_request,
    "hang": make_hang,
    "knowledge-base-request": make_knowledge_base_request,
    "model-output": make_model_output,
    "phone-call-control": make_phone_call_control,
    "speech-update": make_speech_update,
    "status-update": make_status_update,
    "tool-calls": make_tool_calls,
    "transfer-destination-request": make_transfer_destination_request,
    "transfer-update": make_transfer_update,
    "transcript": make_transcript,
    TRANSCRIPT_FINAL_TYPE: _make_transcript_final,
    "user-interrupted": make_user_interrupted,
    "language-change-detected": make_language_change_detected,
    "voice-input": make_voice_input,
    "assistant.speechStarted": make_assistant_speech_started,
    "voice-request": make_voice_request,
    "call.endpointing.request": make_call_endpointing_request,
    "chat.created": make_chat_created,
    "chat.deleted": make_chat_deleted,
    "session.created": make_session_created,
    "session.updated": make_session_updated,
    "session.deleted": make_session_deleted,
    "call.deleted": make_call_deleted,
    "call.delete.failed": make_call_delete_failed,
    "call.artifact.upload": make_call_artifact_upload,
    "campaign.predial": make_campaign_predial,
    "function-call": make_function_call,
    "language-changed": make_language_changed,
    "assistant.started": make_assistant_started,
}
"""Every known wire ``type`` (including the bracketed transcript spelling) -> its factory."""


def make(type: str, /, **overrides: Any) -> dict[str, Any]:
    """Build a message of wire ``type``; an unknown type gets just the common call fields."""
    factory = FACTORIES.get(type)
    if factory is not None:
        return factory(**overrides)
    timestamp_as = overrides.pop("timestamp_as", "ms")
    return _call_event(type, timestamp_as, overrides)
