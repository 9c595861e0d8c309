"""Factories of call lifecycle messages: assistant request, status, reports, after-call events."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ._common import (
    AUTO,
    CALL_ID,
    _call,
    _call_event,
    _call_message,
    _customer,
    _destination_number,
    _finish,
    _iso,
    _now_ms,
    _phone_number,
)
from ._history import History, _history

_STORAGE = "https://storage.vapi.ai"
_SUMMARY = (
    "Maria Gonzalez called to book an appointment with Dr. Patel. The assistant checked "
    "availability and booked Tuesday at 10:30; confirmation RFC-48213."
)


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


def make_hang(*, timestamp_as: str = "ms", **overrides: Any) -> dict[str, Any]:
    """``hang``: the assistant has been silent for too long."""
    return _call_event("hang", timestamp_as, overrides)


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
