"""Realistic Vapi Server URL webhook payloads for tests: one factory per message type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._calls import (
    make_assistant_request,
    make_call_artifact_upload,
    make_call_delete_failed,
    make_call_deleted,
    make_conversation_update,
    make_end_of_call_report,
    make_hang,
    make_status_update,
)
from ._common import (
    ASSISTANT_ID,
    ASSISTANT_NAME,
    AUTO,
    CALL_ID,
    CAMPAIGN_ID,
    CHAT_ID,
    CLINIC_NUMBER,
    CONTACT_ID,
    CUSTOMER_ID,
    CUSTOMER_NUMBER,
    FRONT_DESK_NUMBER,
    ORG_ID,
    PHONE_NUMBER_ID,
    SERVER_URL,
    SESSION_ID,
    TRANSCRIPT_FINAL_TYPE,
    TURN_ID,
    TWILIO_ACCOUNT_SID,
    TWILIO_CALL_SID,
    _call_event,
    camel,
    tool_call_id,
    wrap,
)
from ._history import History
from ._legacy import make_assistant_started, make_function_call, make_language_changed
from ._noncall import (
    make_campaign_predial,
    make_chat_created,
    make_chat_deleted,
    make_session_created,
    make_session_deleted,
    make_session_updated,
)
from ._simulations import make_simulation_run_ended, make_simulation_run_started
from ._speech import (
    make_assistant_speech_started,
    make_call_endpointing_request,
    make_knowledge_base_request,
    make_language_change_detected,
    make_model_output,
    make_speech_update,
    make_transcript,
    make_user_interrupted,
    make_voice_input,
    make_voice_request,
)
from ._tools import (
    ToolCallSpec,
    make_handoff_destination_request,
    make_phone_call_control,
    make_tool_calls,
    make_transfer_destination_request,
    make_transfer_update,
)

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
    "make_simulation_run_ended",
    "make_simulation_run_started",
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
    "simulation.run.started": make_simulation_run_started,
    "simulation.run.ended": make_simulation_run_ended,
}
"""Every known wire ``type`` (including the bracketed transcript spelling) -> its factory."""


def make(type: str, /, **overrides: Any) -> dict[str, Any]:
    """Build a message of wire ``type``; an unknown type gets just the common call fields."""
    factory = FACTORIES.get(type)
    if factory is not None:
        return factory(**overrides)
    timestamp_as = overrides.pop("timestamp_as", "ms")
    return _call_event(type, timestamp_as, overrides)
