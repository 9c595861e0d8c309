"""One typed model per Vapi server message type (the body's ``message`` object)."""

from __future__ import annotations

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
    ToolCall,
    ToolWithToolCall,
    TransferDestination,
    parse_timestamp,
    tool_arguments,
)


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
    cost = raw()
    costs = raw()
    destination = one(TransferDestination)
    started_at = raw()
    ended_at = raw()
    compliance = raw()


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
    turn_id = raw()


class PhoneCallControl(Message):
    """``phone-call-control``: your server must forward or hang up the call itself."""

    request: str = field(fields.String(required=True))
    destination = one(TransferDestination)


class SpeechUpdate(Message):
    """``speech-update``: the assistant or the user started or stopped speaking."""

    status: str = field(fields.String(required=True))
    role: str = field(fields.String(required=True))
    turn = raw()


class StatusUpdate(Message):
    """``status-update``: ``call.status`` changed."""

    status: str = field(fields.String(required=True))
    ended_reason: Optional[str] = field(fields.String())
    messages = many(HistoryMessage)
    messages_openai_formatted = many(OpenAIMessage, "messagesOpenAIFormatted")
    destination = one(TransferDestination)
    transcript = raw()
    summary = raw()
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
    assistant_id = raw()
    assistant_name = raw()
    is_filtered = raw()
    detected_threats = raw()
    original_transcript = raw()
    confidence = raw()
    confidence_source = raw()


class UserInterrupted(Message):
    """``user-interrupted``: the user interrupted the assistant's turn ``turn_id``."""

    turn_id = raw()


class LanguageChangeDetected(Message):
    """``language-change-detected``: the transcriber switched language."""

    language: str = field(fields.String(required=True))


class LanguageChanged(Message):
    """``language-changed``: the older name of ``language-change-detected``."""

    language: str = field(fields.String(required=True))


class VoiceInput(Message):
    """``voice-input``: text sent to the voice provider."""

    input: str = field(fields.String(required=True))


class AssistantSpeechStarted(Message):
    """``assistant.speechStarted``: the assistant started (or continued) speaking a turn."""

    text: str = field(fields.String(required=True))
    turn = raw()
    source = raw()
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

    new_assistant = one(Assistant)


class FunctionCallPayload(VapiObject):
    """The ``functionCall`` of a legacy ``function-call`` message."""

    name: str = field(fields.String(required=True), vital=True)
    parameters: Any

    def _normalise(self) -> None:
        value = self.raw.get("parameters", self.raw.get("arguments"))
        self.parameters = tool_arguments(self, "parameters", value)


class FunctionCall(Message):
    """``function-call``: the legacy (pre tool-calls) form of a tool call."""

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
