"""The objects Vapi messages share: call, customer, artifact, history items, ..."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from marshmallow import ValidationError, fields

from .base import AnyValue, Lazy, VapiObject, field, many, one, raw


def parse_timestamp(value: Any) -> datetime:
    """A Vapi ``timestamp``: epoch milliseconds (current) or an ISO-8601 string (before 2025)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00", 1))
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    raise ValidationError(["Not a valid timestamp (epoch milliseconds or ISO-8601 string)."])


MISSING = "Missing data for required field."


def _datetime() -> fields.DateTime:
    return fields.DateTime()


def moment(data_key: str | None = None) -> Lazy[datetime]:
    """A timestamp (epoch milliseconds or ISO-8601), parsed to a ``datetime`` when first read.

    Lazy rather than a ``DateTime`` field: it keeps its model on the fast path.
    """
    return Lazy(parse_timestamp, data_key)


class Customer(VapiObject):
    """The caller or callee (``CreateCustomerDTO``)."""

    number: Optional[str] = field(fields.String())
    name: Optional[str] = field(fields.String())
    email: Optional[str] = field(fields.String())
    external_id: Optional[str] = field(fields.String())
    sip_uri: Optional[str] = field(fields.String())
    extension: Optional[str] = field(fields.String())
    number_e164_check_enabled: Optional[bool] = field(fields.Boolean())
    assistant_overrides = raw()
    squad_overrides = raw()


class PhoneNumber(VapiObject):
    """The Vapi phone number a call came in or went out on."""

    #: The phone number's id (sent on the numbers of real calls).
    id: Optional[str] = field(fields.String())
    provider: Optional[str] = field(fields.String())
    number: Optional[str] = field(fields.String())
    name: Optional[str] = field(fields.String())
    assistant_id: Optional[str] = field(fields.String())
    squad_id: Optional[str] = field(fields.String())
    workflow_id: Optional[str] = field(fields.String())
    server = raw()
    #: The organization the number belongs to (sent on the numbers of real calls).
    org_id: Optional[str] = field(fields.String())
    #: ``active``, ``activating`` or ``blocked`` (sent on the numbers of real calls).
    status: Optional[str] = field(fields.String())
    sip_uri: Optional[str] = field(fields.String())
    credential_id: Optional[str] = field(fields.String())
    twilio_account_sid: Optional[str] = field(fields.String())
    sms_enabled: Optional[bool] = field(fields.Boolean())
    number_e164_check_enabled: Optional[bool] = field(fields.Boolean())
    #: When the number was created (sent on the numbers of real calls).
    created_at = moment()
    #: When the number was last updated (sent on the numbers of real calls).
    updated_at = moment()
    fallback_destination = raw()
    hooks = raw()


class Assistant(VapiObject):
    """An assistant configuration (``CreateAssistantDTO``); the large parts stay in ``raw``."""

    #: The id of a saved assistant (absent for transient assistants).
    id: Optional[str] = field(fields.String())
    name: Optional[str] = field(fields.String())
    first_message: Optional[str] = field(fields.String())
    model = raw()
    voice = raw()
    transcriber = raw()
    server = raw()
    server_messages = raw()
    #: The values of the prompt's template variables (``{{name}}``), after a handoff too.
    variable_values = raw()
    metadata = raw()
    first_message_mode: Optional[str] = field(fields.String())
    max_duration_seconds: Optional[float] = field(fields.Float())
    voicemail_message: Optional[str] = field(fields.String())
    end_call_message: Optional[str] = field(fields.String())
    end_call_phrases = raw()
    client_messages = raw()
    analysis_plan = raw()
    artifact_plan = raw()
    hooks = raw()


class HistoryMessage(VapiObject):
    """One item of Vapi's conversation history (``artifact.messages``).

    The spec's five item kinds differ only by ``role`` (``system``, ``bot``, ``user``,
    ``tool_calls``, ``tool_call_result``), so one loose type covers them all.
    """

    role: str = field(fields.String(required=True))
    message: Optional[str] = field(fields.String())
    time: Optional[float] = field(fields.Float())
    end_time: Optional[float] = field(fields.Float())
    seconds_from_start: Optional[float] = field(fields.Float())
    duration: Optional[float] = field(fields.Float())
    source: Optional[str] = field(fields.String())
    name: Optional[str] = field(fields.String())
    result: Optional[Any] = field(AnyValue())
    tool_call_id: Optional[str] = field(fields.String())
    tool_calls = raw()
    metadata = raw()
    is_filtered: Optional[bool] = field(fields.Boolean())
    detected_threats = raw()
    original_message: Optional[str] = field(fields.String())
    speaker_label: Optional[str] = field(fields.String())
    assistant_name: Optional[str] = field(fields.String())
    assistant_id: Optional[str] = field(fields.String())
    warnings = raw()


class OpenAIMessage(VapiObject):
    """One item of the history in OpenAI chat format (``messagesOpenAIFormatted``)."""

    #: ``assistant``, ``function``, ``user``, ``system`` or ``tool``.
    role: str = field(fields.String(required=True))
    #: The text of the message (``""`` for a turn that only calls tools).
    content: Optional[Any] = field(AnyValue())
    #: The tool calls of an assistant turn, in OpenAI's format (arguments as JSON strings).
    tool_calls = raw(data_key="tool_calls")
    #: The tool call a ``tool`` message answers.
    tool_call_id = raw(data_key="tool_call_id")


class Analysis(VapiObject):
    """The post-call analysis of an end-of-call report."""

    summary: Optional[str] = field(fields.String())
    success_evaluation: Optional[Any] = field(AnyValue())
    structured_data = raw()
    structured_data_multi = raw()


class Artifact(VapiObject):
    """Recordings, transcript and conversation history of a call.

    ``messages`` and ``messages_openai_formatted`` grow with the call and are only
    validated when read.
    """

    transcript: Optional[str] = field(fields.String())
    recording_url: Optional[str] = field(fields.String())
    stereo_recording_url: Optional[str] = field(fields.String())
    video_recording_url: Optional[str] = field(fields.String())
    pcap_url: Optional[str] = field(fields.String())
    log_url: Optional[str] = field(fields.String())
    messages = many(HistoryMessage)
    messages_openai_formatted = many(OpenAIMessage, "messagesOpenAIFormatted")
    recording = raw()
    transfers = raw()
    nodes = raw()
    variable_values = raw()
    performance_metrics = raw()
    structured_outputs = raw()
    video_recording_start_delay_seconds: Optional[float] = field(fields.Float())
    presigned_mono_url: Optional[str] = field(fields.String())
    presigned_stereo_url: Optional[str] = field(fields.String())
    presigned_video_url: Optional[str] = field(fields.String())
    presigned_assistant_url: Optional[str] = field(fields.String())
    presigned_customer_url: Optional[str] = field(fields.String())
    presigned_pcap_url: Optional[str] = field(fields.String())
    presigned_log_url: Optional[str] = field(fields.String())
    presigned_urls_expires_at = moment()
    assistant_activations = raw()
    skipped_structured_outputs = raw()
    scorecards = raw()
    structured_outputs_last_updated_at = moment()


class TransferDestination(VapiObject):
    """Where a call is (or should be) transferred: a number, a SIP URI or an assistant."""

    #: ``number``, ``sip`` or ``assistant``.
    type: str = field(fields.String(required=True))
    number: Optional[str] = field(fields.String())
    extension: Optional[str] = field(fields.String())
    sip_uri: Optional[str] = field(fields.String())
    assistant_name: Optional[str] = field(fields.String())
    caller_id: Optional[str] = field(fields.String())
    description: Optional[str] = field(fields.String())
    message = raw()
    transfer_plan = raw()
    transfer_mode: Optional[str] = field(fields.String())
    number_e164_check_enabled: Optional[bool] = field(fields.Boolean())
    sip_headers = raw()


class Call(VapiObject):
    """The call a message belongs to."""

    id: Optional[str] = field(fields.String())
    org_id: Optional[str] = field(fields.String())
    type: Optional[str] = field(fields.String())
    status: Optional[str] = field(fields.String())
    ended_reason: Optional[str] = field(fields.String())
    phone_call_provider: Optional[str] = field(fields.String())
    phone_call_provider_id: Optional[str] = field(fields.String())
    phone_call_transport: Optional[str] = field(fields.String())
    assistant_id: Optional[str] = field(fields.String())
    squad_id: Optional[str] = field(fields.String())
    workflow_id: Optional[str] = field(fields.String())
    phone_number_id: Optional[str] = field(fields.String())
    customer_id: Optional[str] = field(fields.String())
    campaign_id: Optional[str] = field(fields.String())
    name: Optional[str] = field(fields.String())
    cost: Optional[float] = field(fields.Float())
    created_at: Optional[datetime] = field(_datetime())
    updated_at: Optional[datetime] = field(_datetime())
    started_at: Optional[datetime] = field(_datetime())
    ended_at: Optional[datetime] = field(_datetime())
    customer = one(Customer)
    phone_number = one(PhoneNumber)
    assistant = one(Assistant)
    artifact = one(Artifact)
    analysis = one(Analysis)
    destination = one(TransferDestination)
    assistant_overrides = raw()
    monitor = raw()
    costs = raw()
    transport = raw()
    ended_message: Optional[str] = field(fields.String())
    assistant_version: Optional[str] = field(fields.String())
    #: The squad version the call used (in Vapi's Python SDK 3.0, not yet in the spec).
    squad_version: Optional[str] = field(fields.String())
    #: The conversation history (``artifact.messages`` is the current place to read it).
    messages = many(HistoryMessage)
    cost_breakdown = raw()
    compliance = raw()
    squad = raw()
    squad_overrides = raw()
    workflow = raw()
    workflow_overrides = raw()
    schedule_plan = raw()
    artifact_plan = raw()


class Chat(VapiObject):
    """A Chat API conversation (``chat.created`` / ``chat.deleted``)."""

    id: Optional[str] = field(fields.String())
    org_id: Optional[str] = field(fields.String())
    assistant_id: Optional[str] = field(fields.String())
    squad_id: Optional[str] = field(fields.String())
    session_id: Optional[str] = field(fields.String())
    previous_chat_id: Optional[str] = field(fields.String())
    name: Optional[str] = field(fields.String())
    created_at: Optional[datetime] = field(_datetime())
    updated_at: Optional[datetime] = field(_datetime())
    input = raw()
    messages = raw()
    output = raw()
    cost: Optional[float] = field(fields.Float())
    costs = raw()
    stream: Optional[bool] = field(fields.Boolean())
    assistant = one(Assistant)
    assistant_overrides = raw()
    squad = raw()


class Session(VapiObject):
    """A persistent session (``session.*``)."""

    id: Optional[str] = field(fields.String())
    org_id: Optional[str] = field(fields.String())
    name: Optional[str] = field(fields.String())
    status: Optional[str] = field(fields.String())
    assistant_id: Optional[str] = field(fields.String())
    squad_id: Optional[str] = field(fields.String())
    customer_id: Optional[str] = field(fields.String())
    phone_number_id: Optional[str] = field(fields.String())
    expiration_seconds: Optional[float] = field(fields.Float())
    created_at: Optional[datetime] = field(_datetime())
    updated_at: Optional[datetime] = field(_datetime())
    customer = one(Customer)
    messages = raw()
    artifact = one(Artifact)
    cost: Optional[float] = field(fields.Float())
    costs = raw()
    phone_number = one(PhoneNumber)
    assistant = one(Assistant)
    assistant_overrides = raw()
    squad = raw()


class CampaignContact(VapiObject):
    """The contact a campaign is about to dial (``campaign.predial``)."""

    #: The contact's id.
    id: Optional[str] = field(fields.String())
    #: The campaign the contact belongs to.
    campaign_id: Optional[str] = field(fields.String())
    #: The organization the campaign belongs to.
    org_id: Optional[str] = field(fields.String())
    #: The saved customer the contact refers to, if any.
    customer_id: Optional[str] = field(fields.String())
    #: The number to dial.
    number: Optional[str] = field(fields.String())
    #: The contact's name.
    name: Optional[str] = field(fields.String())
    #: When the contact was added to the campaign.
    created_at: Optional[datetime] = field(_datetime())
    #: Assistant overrides for this contact's call (template variables, ...).
    assistant_overrides = raw()
    squad_overrides = raw()


class ArtifactUpload(VapiObject):
    """One artifact written to your storage (``call.artifact.upload``)."""

    #: ``end-of-call-report``, ``recording-mono``, ``recording-stereo``, ``log``, ``pcap``, ...
    type: str = field(fields.String(required=True))
    #: Whether the upload succeeded.
    success: Optional[bool] = field(fields.Boolean())
