"""One typed model per Vapi server message type (the body's ``message`` object)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from marshmallow import fields

from .base import Lazy, ModelField, ModelList, ObjectField, VapiObject, field, many, one, raw
from .common import (
    Analysis,
    Artifact,
    ArtifactUpload,
    Assistant,
    Call,
    CampaignContact,
    Chat,
    Customer,
    HistoryMessage,
    OpenAIMessage,
    PhoneNumber,
    Session,
    TransferDestination,
    moment,
    parse_timestamp,
)
from .derived import derived, first
from .tools import ToolCall, ToolWithToolCall, tool_arguments


def call_id_in(message: Mapping[str, Any]) -> str | None:
    """The call id of a message as received (``message["call"]["id"]``), without loading
    the typed ``call``; ``None`` when absent or not a string."""
    call = message.get("call")
    call_id = call.get("id") if isinstance(call, dict) else None
    return call_id if isinstance(call_id, str) else None


class Message(VapiObject):
    """Fields every server message may carry; also the model of unknown message types.

    ``type`` is the wire type as received.  The context objects (``call``,
    ``assistant``, ``artifact``, ...) are validated when first read.
    """

    type: str = field(fields.String(required=True), vital=True)
    timestamp = Lazy(parse_timestamp)
    call = one(Call)
    customer = one(Customer)
    phone_number = one(PhoneNumber)
    assistant = one(Assistant)
    artifact = one(Artifact)
    chat = one(Chat)
    assistant_version = raw()


class AssistantRequest(Message):
    """``assistant-request``: choose the assistant for an inbound call (answer within 7.5 s)."""


class ConversationUpdate(Message):
    """``conversation-update``: the conversation history was committed."""

    messages = many(HistoryMessage)
    messages_openai_formatted = many(OpenAIMessage, "messagesOpenAIFormatted", required=True)


class EndOfCallReport(Message):
    """``end-of-call-report``: the call ended and post-processing is complete."""

    ended_reason: str = field(fields.String(required=True))
    artifact = one(Artifact, required=True)
    analysis = one(Analysis, required=True)
    cost: Optional[float] = field(fields.Float())
    costs = raw()
    destination = one(TransferDestination)
    started_at = moment()
    ended_at = moment()
    compliance = raw()
    # Top-level durations: in real reports, not in the spec (see the derived attributes below).
    _duration_ms: Optional[float] = field(fields.Float(), "durationMs")
    _duration_seconds: Optional[float] = field(fields.Float(), "durationSeconds")
    _duration_minutes: Optional[float] = field(fields.Float(), "durationMinutes")
    # Top-level copies of reports from before 2025 (now in ``artifact`` and ``analysis``).
    _summary: Optional[str] = field(fields.String(), "summary")
    _transcript: Optional[str] = field(fields.String(), "transcript")
    _recording_url: Optional[str] = field(fields.String(), "recordingUrl")
    _stereo_recording_url: Optional[str] = field(fields.String(), "stereoRecordingUrl")
    _messages = many(HistoryMessage, "messages")

    @derived("durationSeconds, else durationMs / 1000, else endedAt - startedAt")
    def duration_seconds(self) -> Optional[float]:
        """How long the call lasted, in seconds."""
        if self._duration_seconds is None and self._duration_ms is not None:
            return self._duration_ms / 1000
        started, ended = self.started_at, self.ended_at
        delta = (ended - started).total_seconds() if started and ended else None
        return first(self._duration_seconds, delta)

    @derived("durationMs, else duration_seconds * 1000")
    def duration_ms(self) -> Optional[float]:
        """How long the call lasted, in milliseconds."""
        seconds = self.duration_seconds
        return first(self._duration_ms, None if seconds is None else seconds * 1000)

    @derived("durationMinutes, else duration_seconds / 60")
    def duration_minutes(self) -> Optional[float]:
        """How long the call lasted, in minutes (the unit Vapi bills)."""
        seconds = self.duration_seconds
        return first(self._duration_minutes, None if seconds is None else seconds / 60)

    @derived("analysis.summary, else summary (before 2025)")
    def summary(self) -> Optional[str]:
        """The summary of the call written by the analysis model."""
        return first(self.analysis.summary if self.analysis else None, self._summary)

    @derived("artifact.transcript, else transcript (before 2025)")
    def transcript(self) -> Optional[str]:
        """The transcript of the call, one ``AI: ...`` / ``User: ...`` line per turn."""
        return first(self.artifact.transcript if self.artifact else None, self._transcript)

    @derived("artifact.recordingUrl, else recordingUrl (before 2025)")
    def recording_url(self) -> Optional[str]:
        """The URL of the mono recording of the call."""
        return first(self.artifact.recording_url if self.artifact else None, self._recording_url)

    @derived("artifact.stereoRecordingUrl, else stereoRecordingUrl (before 2025)")
    def stereo_recording_url(self) -> Optional[str]:
        """The URL of the stereo recording (assistant and customer on separate channels)."""
        url = self.artifact.stereo_recording_url if self.artifact else None
        return first(url, self._stereo_recording_url)

    @derived("artifact.messages, else messages (before 2025)")
    def messages(self) -> Optional[list[HistoryMessage]]:
        """The conversation history of the call."""
        return first(self.artifact.messages if self.artifact else None, self._messages)


class HandoffDestinationRequest(Message):
    """``handoff-destination-request``: the model wants a handoff with no fixed destination."""

    parameters: dict[str, Any] = field(ObjectField(required=True))


class Hang(Message):
    """``hang``: the assistant is stalling (slow model, voice or tool)."""


class KnowledgeBaseRequest(Message):
    """``knowledge-base-request``: return documents for a custom knowledge base."""

    messages = many(HistoryMessage)
    messages_openai_formatted = many(OpenAIMessage, "messagesOpenAIFormatted", required=True)


class ModelOutput(Message):
    """``model-output``: a token (or tool-call chunk) streamed by the model."""

    output: Any = field(fields.Raw(required=True, allow_none=True))
    turn_id: Optional[str] = field(fields.String())


class PhoneCallControl(Message):
    """``phone-call-control``: your server must forward or hang up the call itself."""

    request: str = field(fields.String(required=True))
    destination = one(TransferDestination)


class SpeechUpdate(Message):
    """``speech-update``: the assistant or the user started or stopped speaking."""

    status: str = field(fields.String(required=True))
    role: str = field(fields.String(required=True))
    turn: Optional[float] = field(fields.Float())


class StatusUpdate(Message):
    """``status-update``: ``call.status`` changed."""

    status: str = field(fields.String(required=True))
    ended_reason: Optional[str] = field(fields.String())
    messages = many(HistoryMessage)
    messages_openai_formatted = many(OpenAIMessage, "messagesOpenAIFormatted")
    destination = one(TransferDestination)
    transcript: Optional[str] = field(fields.String())
    summary: Optional[str] = field(fields.String())
    inbound_phone_call_debugging_artifacts = raw()


class ToolCalls(Message):
    """``tool-calls``: the model calls one or more tools; answer one result per call.

    ``tool_calls`` is the wire ``toolCallList`` (or, in payloads from 2024, its copy
    ``toolCalls``), validated on arrival: a list whose items all have a string ``id``
    (vital).  One broken call does not sink the batch: it loads with non-empty
    ``invalid_fields``.
    """

    tool_calls: list[ToolCall] = field(
        ModelList(ToolCall, required=True, fallback_key="toolCalls"), "toolCallList", vital=True
    )
    tool_with_tool_call_list = many(ToolWithToolCall)


class TransferDestinationRequest(Message):
    """``transfer-destination-request``: the model wants a transfer with no fixed destination."""


class TransferUpdate(Message):
    """``transfer-update``: a transfer happened."""

    destination = one(TransferDestination)
    to_assistant = one(Assistant)
    from_assistant = one(Assistant)
    to_step_record = raw()
    from_step_record = raw()


class Transcript(Message):
    """``transcript`` (or ``transcript[transcriptType="final"]``): a partial or final transcript."""

    role: str = field(fields.String(required=True))
    transcript_type: str = field(fields.String(required=True))
    transcript: str = field(fields.String(required=True))
    assistant_id: Optional[str] = field(fields.String())
    assistant_name: Optional[str] = field(fields.String())
    is_filtered: Optional[bool] = field(fields.Boolean())
    detected_threats = raw()
    original_transcript: Optional[str] = field(fields.String())
    #: How sure the transcriber is, 0 to 1 (in Vapi's Python SDK 3.0, not yet in the spec).
    confidence: Optional[float] = field(fields.Float())
    #: ``provider`` (from the transcriber) or ``derived`` (computed by Vapi).
    confidence_source: Optional[str] = field(fields.String())


class UserInterrupted(Message):
    """``user-interrupted``: the user interrupted the assistant's turn ``turn_id``."""

    turn_id: Optional[str] = field(fields.String())


class LanguageChangeDetected(Message):
    """``language-change-detected``: the transcriber switched language."""

    language: str = field(fields.String(required=True))


class LanguageChanged(Message):
    """``language-changed``: the older name of ``language-change-detected``."""

    #: The language the transcriber switched to (for example ``es``).
    language: str = field(fields.String(required=True))


class VoiceInput(Message):
    """``voice-input``: text sent to the voice provider."""

    input: str = field(fields.String(required=True))


class AssistantSpeechStarted(Message):
    """``assistant.speechStarted``: the assistant started (or continued) speaking a turn."""

    text: str = field(fields.String(required=True))
    turn: Optional[float] = field(fields.Float())
    source: Optional[str] = field(fields.String())
    timing = raw()


class VoiceRequest(Message):
    """``voice-request``: synthesise ``text`` as raw PCM at ``sample_rate`` (custom voice)."""

    text: str = field(fields.String(required=True))
    sample_rate: float = field(fields.Float(required=True))


class CallEndpointingRequest(Message):
    """``call.endpointing.request``: how long to wait before the user's turn is over."""

    messages = many(HistoryMessage)
    messages_openai_formatted = many(OpenAIMessage, "messagesOpenAIFormatted", required=True)


class ChatCreated(Message):
    """``chat.created``: a Chat API chat was created."""

    chat = one(Chat, required=True)


class ChatDeleted(Message):
    """``chat.deleted``: a Chat API chat was deleted."""

    chat = one(Chat, required=True)


class SessionCreated(Message):
    """``session.created``: a session was created."""

    session = one(Session, required=True)


class SessionUpdated(Message):
    """``session.updated``: a session was updated."""

    session = one(Session, required=True)


class SessionDeleted(Message):
    """``session.deleted``: a session was deleted."""

    session = one(Session, required=True)


class CallDeleted(Message):
    """``call.deleted``: a call's data was deleted."""


class CallDeleteFailed(Message):
    """``call.delete.failed``: deleting a call's data failed."""


class CallArtifactUpload(Message):
    """``call.artifact.upload``: artifacts were written to your own storage."""

    artifacts = many(ArtifactUpload, required=True)


class CampaignPredial(Message):
    """``campaign.predial``: decide whether a campaign may dial ``contact``."""

    campaign_id: str = field(fields.String(required=True))
    contact = one(CampaignContact, required=True)


class AssistantStarted(Message):
    """``assistant.started``: an assistant became active (``new_assistant``)."""

    #: The assistant that is now active.
    new_assistant = one(Assistant)


class FunctionCallPayload(VapiObject):
    """The ``functionCall`` of a legacy ``function-call`` message."""

    #: The name of the function to call.
    name: str = field(fields.String(required=True), vital=True)
    parameters: Any

    def _normalise(self) -> None:
        value = self.raw.get("parameters", self.raw.get("arguments"))
        self.parameters = tool_arguments(self, "parameters", value)


class FunctionCall(Message):
    """``function-call``: the legacy (pre tool-calls) form of a tool call."""

    #: The function to call and its parameters.
    function_call: FunctionCallPayload = field(
        ModelField(FunctionCallPayload, required=True), vital=True
    )


__all__ = [
    "AssistantRequest",
    "AssistantSpeechStarted",
    "AssistantStarted",
    "CallArtifactUpload",
    "CallDeleteFailed",
    "CallDeleted",
    "CallEndpointingRequest",
    "CampaignPredial",
    "ChatCreated",
    "ChatDeleted",
    "ConversationUpdate",
    "EndOfCallReport",
    "FunctionCall",
    "FunctionCallPayload",
    "HandoffDestinationRequest",
    "Hang",
    "KnowledgeBaseRequest",
    "LanguageChangeDetected",
    "LanguageChanged",
    "Message",
    "ModelOutput",
    "PhoneCallControl",
    "SessionCreated",
    "SessionDeleted",
    "SessionUpdated",
    "SpeechUpdate",
    "StatusUpdate",
    "ToolCalls",
    "Transcript",
    "TransferDestinationRequest",
    "TransferUpdate",
    "UserInterrupted",
    "VoiceInput",
    "VoiceRequest",
]
