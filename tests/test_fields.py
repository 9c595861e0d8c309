"""The attributes users read, at their current wire location or the legacy one, typed."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from flask_vapi import models
from flask_vapi import payloads as p

UTC = timezone.utc


def report(**fields: Any) -> models.EndOfCallReport:
    body = {"type": "end-of-call-report", "endedReason": "customer-ended-call"}
    body.update({"artifact": {}, "analysis": {}}, **fields)
    return models.EndOfCallReport.load(body)


def test_end_of_call_report_current_form() -> None:
    message = p.make_end_of_call_report()
    loaded = models.EndOfCallReport.load(message)
    assert loaded.summary == message["analysis"]["summary"]
    assert loaded.transcript == message["artifact"]["transcript"]
    assert loaded.transcript.startswith("AI: ")
    assert loaded.recording_url == message["artifact"]["recordingUrl"]
    assert loaded.stereo_recording_url == message["artifact"]["stereoRecordingUrl"]
    history = message["artifact"]["messages"]
    assert [item.role for item in loaded.messages] == [item["role"] for item in history]
    assert isinstance(loaded.cost, float) and loaded.cost == message["cost"]
    assert loaded.duration_seconds == message["durationSeconds"]
    assert loaded.duration_ms == message["durationMs"]
    assert loaded.duration_minutes == message["durationMinutes"]
    assert isinstance(loaded.started_at, datetime) and loaded.started_at.tzinfo is not None
    assert loaded.started_at < loaded.ended_at


def test_end_of_call_report_legacy_top_level_fields() -> None:
    loaded = report(
        transcript="AI: Hello.\nUser: Hi.\n",
        summary="A short call.",
        recordingUrl="https://storage.vapi.ai/a-mono.wav",
        stereoRecordingUrl="https://storage.vapi.ai/a-stereo.wav",
        messages=[{"role": "bot", "message": "Hello.", "time": 1722115418016.999}],
    )
    assert loaded.summary == "A short call."
    assert loaded.transcript == "AI: Hello.\nUser: Hi.\n"
    assert loaded.recording_url == "https://storage.vapi.ai/a-mono.wav"
    assert loaded.stereo_recording_url == "https://storage.vapi.ai/a-stereo.wav"
    assert loaded.messages[0].message == "Hello."
    assert loaded.messages[0].time == 1722115418016.999


def test_current_location_wins_over_legacy() -> None:
    loaded = report(analysis={"summary": "new"}, summary="old")
    assert loaded.summary == "new"
    loaded = report(artifact={"recordingUrl": "https://new"}, recordingUrl="https://old")
    assert loaded.recording_url == "https://new"


def test_durations_from_start_and_end_when_not_sent() -> None:
    loaded = report(startedAt="2026-01-05T10:00:00.000Z", endedAt="2026-01-05T10:02:30.500Z")
    assert loaded.started_at == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert loaded.ended_at == datetime(2026, 1, 5, 10, 2, 30, 500000, tzinfo=UTC)
    assert loaded.duration_seconds == 150.5
    assert loaded.duration_ms == 150500
    assert loaded.duration_minutes == pytest.approx(150.5 / 60)
    assert report(durationMs=90000).duration_seconds == 90.0
    assert report(durationSeconds=12).duration_minutes == 0.2


def test_missing_report_fields_read_none() -> None:
    loaded = report()
    for name in (
        "summary",
        "transcript",
        "recording_url",
        "stereo_recording_url",
        "messages",
        "cost",
        "started_at",
        "ended_at",
        "duration_seconds",
        "duration_ms",
        "duration_minutes",
    ):
        assert getattr(loaded, name) is None, name
    assert report(cost=0).cost == 0.0 and isinstance(report(cost=0).cost, float)


def test_in_call_message_fields_are_typed() -> None:
    transcript = models.Transcript.load(
        p.make_transcript(
            role="assistant", confidence=1, confidence_source="provider", is_filtered=False
        )
    )
    assert transcript.assistant_id == p.ASSISTANT_ID
    assert transcript.assistant_name == p.ASSISTANT_NAME
    assert transcript.confidence == 1.0 and isinstance(transcript.confidence, float)
    assert transcript.confidence_source == "provider"
    assert transcript.is_filtered is False
    speech = models.SpeechUpdate.load(p.make_speech_update(turn=3))
    assert speech.turn == 3.0 and isinstance(speech.turn, float)
    assert models.ModelOutput.load(p.make_model_output()).turn_id == p.TURN_ID
    assert models.UserInterrupted.load(p.make_user_interrupted()).turn_id == p.TURN_ID
    started = models.AssistantSpeechStarted.load(p.make_assistant_speech_started(turn=2))
    assert (started.turn, started.source) == (2.0, "model")
    forwarding = models.StatusUpdate.load(p.make_status_update(status="forwarding"))
    assert forwarding.transcript.startswith("AI: ") and forwarding.summary


def test_call_and_its_parties() -> None:
    message = p.make_hang()
    message["call"].update(endedMessage="Bye", assistantVersion="v3", squadVersion="s2")
    message["call"]["messages"] = [{"role": "user", "message": "Hi", "isFiltered": True}]
    loaded = models.Hang.load(message)
    call = loaded.call
    assert (call.ended_message, call.assistant_version, call.squad_version) == ("Bye", "v3", "s2")
    assert call.messages[0].is_filtered is True
    number = loaded.phone_number
    assert number.org_id == p.ORG_ID and number.status == "active"
    assert number.twilio_account_sid == p.TWILIO_ACCOUNT_SID
    assert number.created_at == datetime(2025, 11, 3, 16, 20, 11, 482000, tzinfo=UTC)
    assistant = loaded.assistant
    assert assistant.first_message_mode == "assistant-speaks-first"
    assert assistant.max_duration_seconds == 900.0
    assert assistant.end_call_phrases == ["goodbye", "have a great day"]


def test_artifact_presigned_urls_and_history_items() -> None:
    artifact = models.Artifact.load(
        {
            "presignedMonoUrl": "https://signed/mono",
            "presignedUrlsExpiresAt": "2026-08-20T12:00:00.000Z",
            "videoRecordingStartDelaySeconds": 2,
            "messages": [
                {
                    "role": "bot",
                    "message": "Hello",
                    "assistantName": "Riley",
                    "assistantId": "a-1",
                    "speakerLabel": "speaker-0",
                    "originalMessage": "Hello!",
                }
            ],
        }
    )
    assert artifact.presigned_mono_url == "https://signed/mono"
    assert artifact.presigned_urls_expires_at == datetime(2026, 8, 20, 12, tzinfo=UTC)
    assert artifact.video_recording_start_delay_seconds == 2.0
    item = artifact.messages[0]
    assert (item.assistant_name, item.assistant_id) == ("Riley", "a-1")
    assert (item.speaker_label, item.original_message) == ("speaker-0", "Hello!")


def test_chat_session_tool_and_destination_fields() -> None:
    chat = models.ChatCreated.load(p.make_chat_created()).chat
    assert chat.cost == 0.0123 and chat.costs[1] == {"type": "chat", "cost": 0.01}
    session = models.SessionCreated.load(p.make_session_created()).session
    assert session.cost == 0.0 and session.costs == []
    tools = models.ToolCalls.load(p.make_tool_calls()).tool_with_tool_call_list
    assert tools[0].name is None and tools[0].type == "function"
    bash = models.ToolWithToolCall.load({"type": "bash", "name": "bash", "subType": "bash_x"})
    assert (bash.name, bash.sub_type) == ("bash", "bash_x")
    destination = models.TransferDestination.load(
        {"type": "assistant", "assistantName": "Billing", "transferMode": "rolling-history"}
    )
    assert destination.transfer_mode == "rolling-history"
    customer = models.Customer.load({"number": "+1", "numberE164CheckEnabled": False})
    assert customer.number_e164_check_enabled is False
