"""Schemas that check a responder's return value before it is sent to Vapi.

They validate without converting: the value the handler returned is sent as is,
so every field here refuses values of the wrong JSON type instead of coercing them.
``REQUIRE_ONE_OF`` names keys of which a response must have at least one.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from .base import BaseSchema, Field, ObjectField


class StrictNumber(Field):
    """A JSON number (``bool`` and numeric strings are refused)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("Not a valid number.")
        return value


class StrictBoolean(Field):
    """A JSON boolean (``1``, ``"true"`` and friends are refused)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean.")
        return value


class _DestinationSchema(BaseSchema):
    type = fields.String(required=True, validate=validate.OneOf(["number", "sip", "assistant"]))
    number = fields.String(validate=validate.Length(3, 40))  # TransferDestinationNumber
    sipUri = fields.String()
    assistantName = fields.String()

    @validates_schema
    def _target(self, data: dict[str, Any], **kwargs: Any) -> None:
        needed = {"number": "number", "sip": "sipUri", "assistant": "assistantName"}[data["type"]]
        if needed not in data:
            raise ValidationError("Missing data for required field.", needed)


class _PhoneDestinationSchema(_DestinationSchema):
    type = fields.String(required=True, validate=validate.OneOf(["number", "sip"]))


class _SpokenMessageSchema(BaseSchema):
    type = fields.String(required=True)
    content = fields.String(validate=validate.Length(max=1000))


class AssistantRequestResponse(BaseSchema):
    """``assistant-request``: an assistant, squad or workflow, a destination, or an error."""

    REQUIRE_ONE_OF = (
        "error",
        "destination",
        "assistantId",
        "assistant",
        "squadId",
        "squad",
        "workflowId",
        "workflow",
    )

    error = fields.String()
    destination = fields.Nested(_PhoneDestinationSchema)
    assistantId = fields.String()
    assistant = ObjectField()
    assistantOverrides = ObjectField()
    squadId = fields.String()
    squad = ObjectField()
    squadOverrides = ObjectField()
    workflowId = fields.String()
    workflow = ObjectField()
    workflowOverrides = ObjectField()


class TransferDestinationRequestResponse(BaseSchema):
    """``transfer-destination-request``: a destination (and a message), or an error."""

    REQUIRE_ONE_OF = ("destination", "error")

    destination = fields.Nested(_DestinationSchema)
    message = fields.Nested(_SpokenMessageSchema)
    error = fields.String()


class _DocumentSchema(BaseSchema):
    content = fields.String(required=True)
    similarity = StrictNumber(required=True)
    uuid = fields.String()


class KnowledgeBaseRequestResponse(BaseSchema):
    """``knowledge-base-request``: documents for the model, or a message to speak."""

    REQUIRE_ONE_OF = ("documents", "message")

    documents = fields.List(fields.Nested(_DocumentSchema))
    message = fields.Nested(_SpokenMessageSchema)


class HandoffDestinationRequestResponse(BaseSchema):
    """``handoff-destination-request``: a destination (``{}`` cancels), a result, an error."""

    destination = ObjectField(required=True)
    result = fields.String()
    error = fields.String()


class CallEndpointingRequestResponse(BaseSchema):
    """``call.endpointing.request``: seconds to wait before the user's turn is over (0-15)."""

    timeoutSeconds = StrictNumber(required=True, validate=validate.Range(min=0, max=15))


class CampaignPredialResponse(BaseSchema):
    """``campaign.predial``: whether the contact may be dialed."""

    eligible = StrictBoolean(required=True)
