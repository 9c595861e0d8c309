"""The one table of Vapi message types: wire type -> model, signal, and how it is answered."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, Optional

from blinker import NamedSignal
from marshmallow import Schema

from . import signals
from .models import messages as m
from .models import responses as r


@dataclass(frozen=True)
class Answer:
    """How a response-bearing type is answered: by the one responder registered for it."""

    #: The :class:`~flask_vapi.VapiBlueprint` decorator that registers the responder.
    decorator: str
    #: Validates the responder's return value; ``None`` for raw audio (``voice-request``).
    schema: Optional[Schema]
    #: Sent when the responder is missing, raises or returns an invalid value.
    fallback: Any


@dataclass(frozen=True)
class MessageKind:
    """One message type: how to load it, what to signal, whether it needs an answer."""

    type: str
    model: builtins.type[m.Message]
    signal: NamedSignal
    #: How a response-bearing type is answered; ``None``: informational, answered ``{}``.
    answer: Optional[Answer] = None
    #: Answered by ``@vapi.tool`` handlers (``tool-calls`` and legacy ``function-call``).
    tools: bool = False


def _answer(decorator: str, schema: Optional[type[Schema]], fallback: Any) -> Answer:
    return Answer(decorator, schema() if schema is not None else None, fallback)


_KINDS = [
    MessageKind(
        "assistant-request",
        m.AssistantRequest,
        signals.assistant_request,
        _answer(
            "assistant_request",
            r.AssistantRequestResponse,
            {"error": "Sorry, we can't take your call right now. Please try again later."},
        ),
    ),
    MessageKind("conversation-update", m.ConversationUpdate, signals.conversation_update),
    MessageKind("end-of-call-report", m.EndOfCallReport, signals.end_of_call_report),
    MessageKind(
        "handoff-destination-request",
        m.HandoffDestinationRequest,
        signals.handoff_destination_request,
        _answer(
            "handoff_destination_request",
            r.HandoffDestinationRequestResponse,
            {"destination": {}, "error": "The handoff destination is not available."},
        ),
    ),
    MessageKind("hang", m.Hang, signals.hang),
    MessageKind(
        "knowledge-base-request",
        m.KnowledgeBaseRequest,
        signals.knowledge_base_request,
        _answer("knowledge_base_request", r.KnowledgeBaseRequestResponse, {"documents": []}),
    ),
    MessageKind("model-output", m.ModelOutput, signals.model_output),
    MessageKind("phone-call-control", m.PhoneCallControl, signals.phone_call_control),
    MessageKind("speech-update", m.SpeechUpdate, signals.speech_update),
    MessageKind("status-update", m.StatusUpdate, signals.status_update),
    MessageKind("tool-calls", m.ToolCalls, signals.tool_calls, tools=True),
    MessageKind(
        "transfer-destination-request",
        m.TransferDestinationRequest,
        signals.transfer_destination_request,
        _answer(
            "transfer_destination_request",
            r.TransferDestinationRequestResponse,
            {"error": "The transfer destination is not available."},
        ),
    ),
    MessageKind("transfer-update", m.TransferUpdate, signals.transfer_update),
    MessageKind("transcript", m.Transcript, signals.transcript),
    MessageKind('transcript[transcriptType="final"]', m.Transcript, signals.transcript),
    MessageKind("user-interrupted", m.UserInterrupted, signals.user_interrupted),
    MessageKind(
        "language-change-detected", m.LanguageChangeDetected, signals.language_change_detected
    ),
    MessageKind("language-changed", m.LanguageChanged, signals.language_changed),
    MessageKind("voice-input", m.VoiceInput, signals.voice_input),
    MessageKind(
        "assistant.speechStarted", m.AssistantSpeechStarted, signals.assistant_speech_started
    ),
    MessageKind("assistant.started", m.AssistantStarted, signals.assistant_started),
    MessageKind(
        "voice-request",
        m.VoiceRequest,
        signals.voice_request,
        _answer("voice_request", None, b""),
    ),
    MessageKind(
        "call.endpointing.request",
        m.CallEndpointingRequest,
        signals.call_endpointing_request,
        _answer(
            "call_endpointing_request", r.CallEndpointingRequestResponse, {"timeoutSeconds": 1.5}
        ),
    ),
    MessageKind("chat.created", m.ChatCreated, signals.chat_created),
    MessageKind("chat.deleted", m.ChatDeleted, signals.chat_deleted),
    MessageKind("session.created", m.SessionCreated, signals.session_created),
    MessageKind("session.updated", m.SessionUpdated, signals.session_updated),
    MessageKind("session.deleted", m.SessionDeleted, signals.session_deleted),
    MessageKind("call.deleted", m.CallDeleted, signals.call_deleted),
    MessageKind("call.delete.failed", m.CallDeleteFailed, signals.call_delete_failed),
    MessageKind("call.artifact.upload", m.CallArtifactUpload, signals.call_artifact_upload),
    MessageKind(
        "campaign.predial",
        m.CampaignPredial,
        signals.campaign_predial,
        _answer("campaign_predial", r.CampaignPredialResponse, {"eligible": False}),
    ),
    MessageKind("function-call", m.FunctionCall, signals.function_call, tools=True),
    # Campaign-level events: subscribable, but the spec gives them no payload schema.
    MessageKind("campaign.started", m.Message, signals.campaign_started),
    MessageKind("campaign.cancelled", m.Message, signals.campaign_cancelled),
    MessageKind("campaign.ended", m.Message, signals.campaign_ended),
    MessageKind("campaign.archived", m.Message, signals.campaign_archived),
    MessageKind("campaign.unarchived", m.Message, signals.campaign_unarchived),
    MessageKind("campaign.job.continued", m.Message, signals.campaign_job_continued),
    MessageKind("contact.dispatched", m.Message, signals.contact_dispatched),
    MessageKind("contact.completed", m.Message, signals.contact_completed),
    MessageKind("contact.failed", m.Message, signals.contact_failed),
    MessageKind("contact.skipped", m.Message, signals.contact_skipped),
    MessageKind("contact.predial-failed", m.Message, signals.contact_predial_failed),
]

#: Wire type -> :class:`MessageKind`.  Types not listed here are dispatched as unknown.
MESSAGE_KINDS: dict[str, MessageKind] = {kind.type: kind for kind in _KINDS}

#: Wire type -> :class:`Answer`, for the types a single responder answers.
ANSWERS: dict[str, Answer] = {kind.type: kind.answer for kind in _KINDS if kind.answer is not None}
