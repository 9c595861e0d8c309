"""The kinds of value a ``VAPI_*`` key holds: marshmallow fields whose messages never show it."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from .. import auth
from ..answers import check_answer
from ..catalogue import ANSWERED, ANSWERS
from ..models.base import Field

HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_ANY_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


class Key(Field):
    """A config key: ``default`` when unset, values of type ``kinds`` (``bool`` only if
    listed), checked further by :meth:`check`.  ``optional``: ``None`` is valid as is."""

    kinds: tuple[type, ...] = (str,)
    #: What the value must be, for the type error: "must be {what}, not int".
    what = "a string"

    def __init__(self, default: Any = None, *, optional: bool = False) -> None:
        super().__init__(
            load_default=default,
            allow_none=optional,
            error_messages={"null": f"must be {self.what}, not NoneType"},
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, self.kinds) or (
            isinstance(value, bool) and bool not in self.kinds
        ):
            raise ValidationError(f"must be {self.what}, not {type(value).__name__}")
        return self.check(value)

    def check(self, value: Any) -> Any:
        """The checked value; raises ``ValidationError`` with what is wrong."""
        return value


class Flag(Key):
    """``True`` or ``False``."""

    kinds = (bool,)
    what = "True or False"


class HeaderName(Key):
    """An HTTP header name (an RFC 9110 token)."""

    def check(self, value: Any) -> Any:
        if not HEADER_NAME.fullmatch(value):
            raise ValidationError("must be a non-empty HTTP header name")
        return value


class Choice(Key):
    """One of ``choices``, in any case (returned in lower case)."""

    def __init__(self, default: str, choices: tuple[str, ...]) -> None:
        super().__init__(default)
        self.choices = choices

    def check(self, value: Any) -> Any:
        if value.lower() not in self.choices:
            raise ValidationError(f"must be one of {', '.join(self.choices)}")
        return value.lower()


def _credentials(value: Any) -> tuple[bytes, ...]:
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise ValidationError("must be a string or a list of strings")
    if not items or not all(items):
        raise ValidationError("must not be an empty string or an empty list")
    return tuple(item.encode("utf-8", "surrogatepass") for item in items)


class Credentials(Key):
    """A credential or a list of them (rotation), UTF-8 encoded; ``None``: mode not configured."""

    kinds = (object,)
    what = "a string or a list of strings"

    def __init__(self) -> None:
        super().__init__(None, optional=True)

    def check(self, value: Any) -> tuple[bytes, ...]:
        return _credentials(value)


class StaticHeaders(Key):
    """``{header name: credential(s)}``; ``None`` or ``{}``: mode not configured."""

    kinds = (Mapping,)
    what = "a dict of header name to value(s)"

    def __init__(self) -> None:
        super().__init__(None, optional=True)

    def check(self, value: Any) -> tuple[tuple[str, tuple[bytes, ...]], ...] | None:
        required = []
        for name, allowed in value.items():
            if not isinstance(name, str) or not HEADER_NAME.fullmatch(name):
                raise ValidationError("has a key that is not a non-empty HTTP header name")
            try:
                required.append((name, _credentials(allowed)))
            except ValidationError as error:
                raise ValidationError({name: error.messages}) from None
        return tuple(required) or None


class PayloadFormat(Key):
    """An HMAC payload template: known placeholders only, and ``{body}``."""

    def __init__(self) -> None:
        super().__init__(None, optional=True)

    def check(self, value: Any) -> Any:
        unknown = sorted(set(_ANY_PLACEHOLDER.findall(value)) - set(auth.PLACEHOLDERS))
        if unknown:
            raise ValidationError(f"has unknown placeholder(s) {', '.join(unknown)}")
        if "{body}" not in value:
            raise ValidationError("must contain {body}")
        return value


class Seconds(Key):
    """A finite, non-negative number of seconds, as a float."""

    kinds = (int, float)
    what = "a number or None"

    def check(self, value: Any) -> float:
        if not (math.isfinite(value) and value >= 0):
            raise ValidationError("must be a finite, non-negative number of seconds")
        return float(value)


class PositiveSeconds(Seconds):
    """A finite number of seconds above 0, as a float."""

    what = "a number"

    def check(self, value: Any) -> float:
        seconds = super().check(value)
        if seconds == 0:
            raise ValidationError("must be a positive number of seconds")
        return seconds


class PositiveInt(Key):
    """An integer of at least 1."""

    kinds = (int,)
    what = "a positive integer"

    def check(self, value: Any) -> Any:
        if value < 1:
            raise ValidationError("must be a positive integer")
        return value


class Fallbacks(Key):
    """Response-bearing type -> the response sent when its responder fails, checked like a
    responder's answer; the result has every type, with the built-in fallback for the rest."""

    kinds = (Mapping,)
    what = "a dict of message type -> response"

    def check(self, value: Any) -> dict[str, Any]:
        unknown = sorted(set(value) - set(ANSWERS))
        if unknown:
            raise ValidationError(
                f"has no response-bearing type {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(ANSWERS))}"
            )
        fallbacks = {kind: answer.fallback for kind, answer in ANSWERS.items()}
        for kind, response in value.items():
            errors = check_answer(ANSWERS[kind], response)
            if errors:
                raise ValidationError({kind: [f"is not a valid response: {errors}"]})
            fallbacks[kind] = response
        return fallbacks


class ServerTimeout(Seconds):
    """Vapi's server ``timeoutSeconds``: a number from 1 to 300."""

    def check(self, value: Any) -> float:
        if not (math.isfinite(value) and 1 <= value <= 300):
            raise ValidationError("must be from 1 to 300 seconds, as Vapi's timeoutSeconds")
        return float(value)


class Deadlines(Key):
    """Response-bearing type -> its budget in seconds (``None``: no deadline); checked
    against Vapi's limits with the other keys (``ConfigSchema``)."""

    kinds = (Mapping,)
    what = "a dict of message type -> seconds or None"

    def check(self, value: Any) -> dict[str, float | None]:
        unknown = sorted(set(value) - set(ANSWERED))
        if unknown:
            raise ValidationError(
                f"has no type Vapi waits an answer for: {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(ANSWERED))}"
            )
        budgets: dict[str, float | None] = {}
        for kind, budget in value.items():
            if budget is not None:
                budget = budget_seconds(budget)
                if budget is None:
                    raise ValidationError({kind: ["must be a positive number of seconds or None"]})
            budgets[kind] = budget
        return budgets


def budget_seconds(value: Any) -> float | None:
    """``value`` as a budget in seconds (a finite number above 0), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None
