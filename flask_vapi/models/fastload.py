"""A fast path for marshmallow loading of plain fields, derived from the schema itself.

Marshmallow spends 1-2 µs per declared field even for a string; on Vapi's many small
messages (and on every item of a history once it is read) that is most of flask_vapi's
cost.  For a schema whose fields are all of a few plain kinds (string, number, boolean,
object, any value) with no validators and no hooks, :func:`load_plain` checks the values
directly and returns what ``schema.load`` would.  Anything else, including every invalid
value, returns ``None``: the caller then runs marshmallow, which words the errors.
tests/test_fastload.py checks that both paths agree.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Optional

from marshmallow import EXCLUDE, Schema, fields, missing

_UNUSUAL = object()


def _string(value: Any) -> Any:
    return value if type(value) is str else _UNUSUAL


def _number(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else _UNUSUAL
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            return _UNUSUAL
    return _UNUSUAL


def _boolean(value: Any) -> Any:
    return value if type(value) is bool else _UNUSUAL


def _object(value: Any) -> Any:
    return value if type(value) is dict else _UNUSUAL


def _any(value: Any) -> Any:
    return value


class Step(NamedTuple):
    """How one declared field is loaded on the fast path."""

    name: str
    data_key: str
    check: Callable[[Any], Any]
    required: bool
    allow_none: bool
    #: Absent optional field: loads as ``None`` (``load_default=None``), else is left out.
    absent_as_none: bool


Plan = tuple[Step, ...]


def _checks() -> dict[type, Callable[[Any], Any]]:
    from .base import AnyValue, ObjectField

    return {
        fields.String: _string,
        fields.Float: _number,
        fields.Boolean: _boolean,
        fields.Raw: _any,
        AnyValue: _any,
        ObjectField: _object,
    }


def plan(schema: Schema) -> Optional[Plan]:
    """The fast-path plan of ``schema``, or ``None`` when it needs marshmallow's full machinery."""
    if any(schema._hooks.values()) or schema.unknown != EXCLUDE:
        return None
    checks = _checks()
    steps = []
    for name, field in schema.load_fields.items():
        check = checks.get(type(field))
        if (
            check is None
            or field.validators
            or field.attribute is not None
            or field.load_default not in (None, missing)
            or getattr(field, "allow_nan", False)
            or "truthy" in vars(field)
            or "falsy" in vars(field)
        ):
            return None
        steps.append(
            Step(
                name,
                field.data_key or name,
                check,
                field.required,
                field.allow_none,
                field.load_default is None,
            )
        )
    return tuple(steps)


def load_plain(steps: Plan, data: dict[str, Any]) -> Optional[dict[str, Any]]:
    """What ``schema.load(data)`` returns, or ``None`` to say: ask marshmallow."""
    values: dict[str, Any] = {}
    for name, data_key, check, required, allow_none, absent_as_none in steps:
        if data_key not in data:
            if required:
                return None
            if absent_as_none:
                values[name] = None
            continue
        value = data[data_key]
        if value is None:
            if not allow_none:
                return None
        else:
            value = check(value)
            if value is _UNUSUAL:
                return None
        values[name] = value
    return values
