"""The objects Vapi messages share: call, customer, artifact, history items, tool calls, ..."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from marshmallow import ValidationError, fields

from .. import jsonio
from .base import AnyValue, VapiObject, field, many, one, raw


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


def _datetime() -> fields.DateTime:
    return fields.DateTime()


class Customer(VapiObject):
    """The caller or callee (``CreateCustomerDTO``)."""

    number: Optional[str] = field(fields.String())
    name: Optional[str] = field(fields.String())
    email: Optional[str] = field(fields.String())
    external_id: Optional[str] = field(fields.String())
    sip_uri: Optional[str] = field(fields.String())
    extension: Optional[str] = field(fields.String())


class PhoneNumber(VapiObject):
    """The Vapi phone number a call came in or went out on."""

    id: Optional[str] = field(fields.String())
    provider: Optional[str] = field(fields.String())
    number: Optional[str] = field(fields.String())
    name: Optional[str] = field(fields.String())
    assistant_id: Optional[str] = field(fields.String())
    squad_id: Optional[str] = field(fields.String())
    workflow_id: Optional[str] = field(fields.String())
    server = raw()


class Assistant(VapiObject):
    """An assistant configuration (``CreateAssistantDTO``); the large parts stay in ``raw``."""

    id: Optional[str] = field(fields.String())
    name: Optional[str] = field(fields.String())
    first_message: Optional[str] = field(fields.String())
    model = raw()
    voice = raw()
    transcriber = raw()
    server = raw()
    server_messages = raw()
    variable_values = raw()
    metadata = raw()


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


class OpenAIMessage(VapiObject):
    """One item of the history in OpenAI chat format (``messagesOpenAIFormatted``)."""

    role: str = field(fields.String(required=True))
    content: Optional[Any] = field(AnyValue())
    tool_calls = raw(data_key="tool_calls")
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


class TransferDestination(VapiObject):
    """Where a call is (or should be) transferred: a number, a SIP URI or an assistant."""

    type: str = field(fields.String(required=True))
    number: Optional[str] = field(fields.String())
    extension: Optional[str] = field(fields.String())
    sip_uri: Optional[str] = field(fields.String())
    assistant_name: Optional[str] = field(fields.String())
    caller_id: Optional[str] = field(fields.String())
    description: Optional[str] = field(fields.String())
    message = raw()
    transfer_plan = raw()


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


class CampaignContact(VapiObject):
    """The contact a campaign is about to dial (``campaign.predial``)."""

    id: Optional[str] = field(fields.String())
    campaign_id: Optional[str] = field(fields.String())
    org_id: Optional[str] = field(fields.String())
    customer_id: Optional[str] = field(fields.String())
    number: Optional[str] = field(fields.String())
    name: Optional[str] = field(fields.String())
    created_at: Optional[datetime] = field(_datetime())
    assistant_overrides = raw()
    squad_overrides = raw()


class ArtifactUpload(VapiObject):
    """One artifact written to your storage (``call.artifact.upload``)."""

    type: str = field(fields.String(required=True))
    success: Optional[bool] = field(fields.Boolean())


def parse_arguments(value: Any) -> Any:
    """Tool arguments arrive as an object or as a JSON string; return the object when possible.

    A string is read like a request body (:mod:`flask_vapi.jsonio`); one that is not JSON
    is returned unchanged.
    """
    if isinstance(value, (str, bytes)):
        # surrogatepass: a raw surrogate reaches loads, which refuses it as it would in a body.
        data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        try:
            return jsonio.loads(data)
        except jsonio.DecodeError:
            return value
    return value


class ToolCall(VapiObject):
    """One tool call the model requests; ``name`` and ``arguments`` are normalised.

    ``name`` comes from ``function.name`` (or a legacy top-level ``name``);
    ``arguments`` from ``function.arguments`` (or legacy ``arguments`` /
    ``parameters``), parsed when Vapi sent a JSON string.
    """

    id: str = field(fields.String(required=True))
    function = raw()
    type = raw()
    name: str
    arguments: Any

    def _check(self) -> None:
        # ``function`` is read here rather than through a schema field: tool calls
        # are on the hot path, where each marshmallow field costs about 2 µs.
        function = self.raw.get("function")
        if function is None:
            function = {}
        elif not isinstance(function, dict):
            raise ValidationError({"function": ["Not a valid object."]})
        name = function.get("name", self.raw.get("name"))
        if not isinstance(name, str) or not name:
            raise ValidationError({"function": {"name": ["Missing data for required field."]}})
        self.name = name
        arguments = function.get("arguments")
        if arguments is None:
            arguments = self.raw.get("arguments", self.raw.get("parameters"))
        self.arguments = {} if arguments is None else parse_arguments(arguments)


class ToolWithToolCall(VapiObject):
    """A tool call together with the tool's configuration (``toolWithToolCallList``)."""

    type: Optional[str] = field(fields.String())
    tool_call = one(ToolCall)
    function = raw()
    server = raw()
    messages = raw()
    metadata = raw()
    is_async = raw(data_key="async")
