"""The one table of Vapi message types: wire type -> model, signal, and how it is answered."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any, Optional

from blinker import NamedSignal
from marshmallow import Schema

from . import signals
from .models import messages as m
from .models import responses as r
from .models import simulations as s


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
    #: How a response-bearing type is answered; ``None``: informational, answered ``{}``.
    answer: Optional[Answer] = None
    #: Answered by ``@vapi.tool`` handlers (``tool-calls`` and legacy ``function-call``).
    tools: bool = False
    #: Sent as a bare body without the ``{"message": ...}`` envelope (simulation events).
    flat: bool = False
    #: The signal's name when it is not the type (both transcript spellings share one).
    signal_name: Optional[str] = None
    #: How long Vapi waits for the answer, in seconds, when fixed by Vapi (``None``: the
    #: server's ``timeoutSeconds``, ``VAPI_SERVER_TIMEOUT``).
    limit: Optional[float] = None
    #: The default budget of a response-bearing type, in seconds, with a margin under
    #: ``limit`` (``None``: ``VAPI_SERVER_TIMEOUT`` minus :data:`MARGIN`).
    budget: Optional[float] = None
    #: Sent for every message of this type (derived: :func:`flask_vapi.signals.for_type`).
    signal: NamedSignal = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "signal", signals.for_type(self.signal_name or self.type))

    @property
    def informational(self) -> bool:
        """Whether Vapi ignores the answer (``{}`` is sent): no responder, no tools."""
        return self.answer is None and not self.tools


#: Seconds kept between a default budget and ``VAPI_SERVER_TIMEOUT``: the request's way to
#: and from Vapi, and the answer's encoding.
MARGIN = 2.0


def _answer(decorator: str, schema: Optional[type[Schema]], fallback: Any) -> Answer:
    return Answer(decorator, schema() if schema is not None else None, fallback)


_KINDS = [
    MessageKind(
        "assistant-request",
        m.AssistantRequest,
        _answer(
            "assistant_request",
            r.AssistantRequestResponse,
            {"error": "Sorry, we can't take your call right now. Please try again later."},
        ),
        limit=7.5,  # fixed by Vapi (telephony caps call setup at 15 s)
        budget=6.0,
    ),
    MessageKind("conversation-update", m.ConversationUpdate),
    MessageKind("end-of-call-report", m.EndOfCallReport),
    MessageKind(
        "handoff-destination-request",
        m.HandoffDestinationRequest,
        _answer(
            "handoff_destination_request",
            r.HandoffDestinationRequestResponse,
            {"destination": {}, "error": "The handoff destination is not available."},
        ),
    ),
    MessageKind("hang", m.Hang),
    MessageKind(
        "knowledge-base-request",
        m.KnowledgeBaseRequest,
        _answer("knowledge_base_request", r.KnowledgeBaseRequestResponse, {"documents": []}),
        limit=10.0,
        budget=8.0,
    ),
    MessageKind("model-output", m.ModelOutput),
    MessageKind("phone-call-control", m.PhoneCallControl),
    MessageKind("speech-update", m.SpeechUpdate),
    MessageKind("status-update", m.StatusUpdate),
    MessageKind("tool-calls", m.ToolCalls, tools=True),
    MessageKind(
        "transfer-destination-request",
        m.TransferDestinationRequest,
        _answer(
            "transfer_destination_request",
            r.TransferDestinationRequestResponse,
            {"error": "The transfer destination is not available."},
        ),
    ),
    MessageKind("transfer-update", m.TransferUpdate),
    MessageKind("transcript", m.Transcript),
    MessageKind('transcript[transcriptType="final"]', m.Transcript, signal_name="transcript"),
    MessageKind("user-interrupted", m.UserInterrupted),
    MessageKind("language-change-detected", m.LanguageChangeDetected),
    MessageKind("language-changed", m.LanguageChanged),
    MessageKind("voice-input", m.VoiceInput),
    MessageKind("assistant.speechStarted", m.AssistantSpeechStarted),
    MessageKind("assistant.started", m.AssistantStarted),
    MessageKind(
        "voice-request",
        m.VoiceRequest,
        _answer("voice_request", None, b""),
    ),
    MessageKind(
        "call.endpointing.request",
        m.CallEndpointingRequest,
        _answer(
            "call_endpointing_request", r.CallEndpointingRequestResponse, {"timeoutSeconds": 1.5}
        ),
    ),
    MessageKind("chat.created", m.ChatCreated),
    MessageKind("chat.deleted", m.ChatDeleted),
    MessageKind("session.created", m.SessionCreated),
    MessageKind("session.updated", m.SessionUpdated),
    MessageKind("session.deleted", m.SessionDeleted),
    MessageKind("call.deleted", m.CallDeleted),
    MessageKind("call.delete.failed", m.CallDeleteFailed),
    MessageKind("call.artifact.upload", m.CallArtifactUpload),
    MessageKind(
        "campaign.predial",
        m.CampaignPredial,
        _answer("campaign_predial", r.CampaignPredialResponse, {"eligible": False}),
    ),
    MessageKind("function-call", m.FunctionCall, tools=True),
    MessageKind("simulation.run.started", s.SimulationRunStarted, flat=True),
    MessageKind("simulation.run.ended", s.SimulationRunEnded, flat=True),
    # Campaign-level events: subscribable, but the spec gives them no payload schema.
    MessageKind("campaign.started", m.Message),
    MessageKind("campaign.cancelled", m.Message),
    MessageKind("campaign.ended", m.Message),
    MessageKind("campaign.archived", m.Message),
    MessageKind("campaign.unarchived", m.Message),
    MessageKind("campaign.job.continued", m.Message),
    MessageKind("contact.dispatched", m.Message),
    MessageKind("contact.completed", m.Message),
    MessageKind("contact.failed", m.Message),
    MessageKind("contact.skipped", m.Message),
    MessageKind("contact.predial-failed", m.Message),
]

#: Wire type -> :class:`MessageKind`.  Types not listed here are dispatched as unknown.
MESSAGE_KINDS: dict[str, MessageKind] = {kind.type: kind for kind in _KINDS}

#: Wire type -> :class:`Answer`, for the types a single responder answers.
ANSWERS: dict[str, Answer] = {kind.type: kind.answer for kind in _KINDS if kind.answer is not None}

#: Wire type -> :class:`MessageKind`, for the types whose answer Vapi waits for.
ANSWERED: dict[str, MessageKind] = {kind.type: kind for kind in _KINDS if not kind.informational}

#: Types Vapi sends without the ``{"message": ...}`` envelope, at the body's top level.
FLAT_TYPES: frozenset[str] = frozenset(kind.type for kind in _KINDS if kind.flat)
