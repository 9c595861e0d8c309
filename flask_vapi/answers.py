"""Checks a responder's return value against what Vapi accepts for its message type."""

from __future__ import annotations

import functools
from typing import Any

from marshmallow import Schema

from .catalogue import Answer
from .models import fastload


def check_answer(answer: Answer, value: Any) -> Any:
    """Validation errors of a responder's return value for ``answer`` (empty when valid)."""
    if answer.schema is None:  # raw audio
        if isinstance(value, (bytes, bytearray, memoryview)):
            return {}
        return {"_schema": ["Return raw PCM audio as bytes."]}
    if not isinstance(value, dict):
        return {"_schema": [f"Return a JSON object (a dict), not {type(value).__name__}."]}
    schema = answer.schema
    one_of = getattr(schema, "REQUIRE_ONE_OF", ())
    if one_of and value.keys().isdisjoint(one_of):
        return {"_schema": ["Return one of: " + ", ".join(one_of) + "."]}
    # Marshmallow visits every declared field, present or not; a response uses a few of
    # them, so validate with a (cached) schema limited to those and the required ones.
    used = frozenset(value.keys() & schema.load_fields.keys()) | _required(schema)
    limited, plan = _limited(type(schema), used)
    if plan is not None and fastload.load_plain(plan, value) is not None:
        return {}
    return limited.validate(value)


@functools.lru_cache(maxsize=256)
def _limited(
    schema_class: type[Schema], fields: frozenset[str]
) -> tuple[Schema, fastload.Plan | None]:
    schema = schema_class(only=fields)
    return schema, fastload.plan(schema)


@functools.cache
def _required(schema: Schema) -> frozenset[str]:
    return frozenset(name for name, field in schema.load_fields.items() if field.required)
