"""Shared pieces of the payload factories: ids, constants, helpers, the call and its parties."""

from __future__ import annotations

import datetime
import enum
import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

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


def _booking_args() -> dict[str, Any]:
    return {
        "patientName": "Maria Gonzalez",
        "dateOfBirth": "1985-03-14",
        "doctor": "Dr. Patel",
        "date": "2026-09-08",
        "time": "10:30",
    }


class _Auto(enum.Enum):
    AUTO = "AUTO"

    def __repr__(self) -> str:
        return "AUTO"


AUTO = _Auto.AUTO
"""Default of keywords whose value the factory derives from the other arguments."""

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


#: Types Vapi posts as the body itself, without the envelope (test simulations).
FLAT_TYPES = frozenset({"simulation.run.started", "simulation.run.ended"})


def wrap(message: dict[str, Any]) -> dict[str, Any]:
    """Return the request body Vapi POSTs for ``message``: ``{"message": message}``
    (simulation events: the message itself)."""
    if message.get("type") in FLAT_TYPES:
        return message
    return {"message": message}


def tool_call_id(index: int) -> str:
    """Return a deterministic tool call id (``call_`` and 24 hex digits), to pass to
    :func:`make_tool_calls` when a test needs to know it in advance.  Without one, each
    factory call makes fresh ids, as Vapi does, so two payloads are never redeliveries of
    each other (``VAPI_DEDUPLICATE``)."""
    return _fake_id("tool-call", index)


def fresh_tool_call_id() -> str:
    """A new, unique tool call id (the factories' default)."""
    return "call_" + uuid.uuid4().hex[:24]


def _fake_id(namespace: str, index: int) -> str:
    return "call_" + hashlib.sha256(f"{namespace}:{index}".encode()).hexdigest()[:24]


_last_ms = 0
_clock = threading.Lock()


def _now_ms() -> int:
    """Now in ms, strictly increasing: two payloads made in one millisecond still differ
    (an identical body is a redelivery)."""
    global _last_ms
    with _clock:
        _last_ms = max(time.time_ns() // 1_000_000, _last_ms + 1)
        return _last_ms


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
