"""A fast path for marshmallow loading of plain fields, derived from the schema itself.

Marshmallow spends 1-2 µs per declared field even for a string; on Vapi's many small
messages (and on every item of a history once it is read) that is most of flask_vapi's
cost.  For a schema whose fields are all of a few plain kinds (string, number, boolean,
object, any value) with no validators and no hooks, :func:`load_plain` checks the values
directly and returns what ``schema.load`` would; nested models (:class:`.kinds.ModelField`,
:class:`.kinds.ModelList`) are loaded with the model's own ``load``, which has its own fast
path.  Anything else, including every invalid value, returns ``None``: the caller then runs
marshmallow, which words the errors.  tests/test_fastload.py checks that both paths agree.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Optional

from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing

from .kinds import AnyValue, ListValue, ModelField, ModelList, ObjectField

_UNUSUAL = object()


class _Never:
    """The ``exact`` type of kinds whose every value goes through the check."""


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


def _list(value: Any) -> Any:
    return value if type(value) is list else _UNUSUAL


def _any(value: Any) -> Any:
    return value


def _via(load: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The check of a nested model: its own ``load`` (or ``load_many``), which words no errors."""

    def check(value: Any) -> Any:
        try:
            return load(value)
        except ValidationError:
            return _UNUSUAL

    return check


class Step(NamedTuple):
    """How one declared field is loaded on the fast path."""

    name: str
    data_key: str
    #: Values of exactly this type load unchanged, with no call (str for strings, ...).
    exact: type
    check: Callable[[Any], Any]
    required: bool
    allow_none: bool
    #: Absent optional field: loads as ``None`` (``load_default=None``), else is left out.
    absent_as_none: bool


Plan = tuple[Step, ...]


#: Field kind -> (the type its values have when they load unchanged, the check of the
#: others, given the field).
_CHECKS: dict[type, tuple[type, Callable[[Any], Callable[[Any], Any]]]] = {
    fields.String: (str, lambda field: _string),
    fields.Float: (_Never, lambda field: _number),  # finite, and int becomes float
    fields.Boolean: (bool, lambda field: _boolean),
    fields.Raw: (_Never, lambda field: _any),
    AnyValue: (_Never, lambda field: _any),
    ObjectField: (dict, lambda field: _object),
    ListValue: (list, lambda field: _list),
    ModelField: (_Never, lambda field: _via(field.model.load)),
    ModelList: (_Never, lambda field: _via(field.model.load_many)),
}


def plan(schema: Schema) -> Optional[Plan]:
    """The fast-path plan of ``schema``, or ``None`` when it needs marshmallow's full machinery."""
    if any(schema._hooks.values()) or schema.unknown != EXCLUDE:
        return None
    steps = []
    for name, field in schema.load_fields.items():
        kind = _CHECKS.get(type(field))
        if (
            kind is None
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
                kind[0],
                kind[1](field),
                field.required,
                field.allow_none,
                field.load_default is None,
            )
        )
    return tuple(steps)


def load_plain(steps: Plan, data: dict[str, Any]) -> Optional[dict[str, Any]]:
    """What ``schema.load(data)`` returns, or ``None`` to say: ask marshmallow."""
    values: dict[str, Any] = {}
    for name, data_key, exact, check, required, allow_none, absent_as_none in steps:
        if data_key in data:
            value = data[data_key]
            if type(value) is not exact:
                if value is None:
                    if not allow_none:
                        return None
                else:
                    value = check(value)
                    if value is _UNUSUAL:
                        return None
            values[name] = value
        elif required:
            return None
        elif absent_as_none:
            values[name] = None
    return values
