"""Marshmallow schemas with every field kind users put in tool schemas (shared by tests)."""

from __future__ import annotations

import enum

from marshmallow import EXCLUDE, Schema, fields, validate


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(Schema):
    street = fields.String(required=True, metadata={"description": "Street and number."})
    city = fields.String(load_default="Springfield")


class Everything(Schema):
    """The field types users put in tool schemas."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(
        required=True,
        validate=validate.Length(min=2, max=40),
        metadata={"description": "Full name."},
    )
    age = fields.Integer(validate=validate.Range(min=0, max=130))
    weight = fields.Float(validate=validate.Range(min=1))
    price = fields.Decimal(as_string=True)
    urgent = fields.Boolean(load_default=False)
    doctor = fields.String(required=True, validate=validate.OneOf(["Dr. Patel", "Dr. Kim"]))
    color = fields.Enum(Color)
    day = fields.Date(required=True)
    starts_at = fields.DateTime(data_key="startsAt")
    slot = fields.Time()
    email = fields.Email()
    website = fields.Url()
    ref = fields.UUID()
    tags = fields.List(fields.String(), validate=validate.Length(min=1))
    address = fields.Nested(Address, required=True)
    others = fields.List(fields.Nested(Address))
    extra = fields.Dict(keys=fields.String(), values=fields.Integer())
    created = fields.String(dump_only=True)
    note = fields.String(load_default=None)
    wait = fields.TimeDelta()
