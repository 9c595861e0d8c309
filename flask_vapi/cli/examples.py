"""Plausible example arguments for a tool's JSON-Schema ``parameters`` (``flask vapi simulate``)."""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from typing import Any, Callable, Optional


def near_weekday(today: Optional[datetime.date] = None) -> datetime.date:
    """The first Monday-to-Friday day after ``today`` (default: the local date)."""
    day = (today or datetime.date.today()) + datetime.timedelta(days=1)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def example_arguments(
    parameters: Mapping[str, Any], *, today: Optional[datetime.date] = None
) -> dict[str, Any]:
    """Plausible arguments for a tool's ``parameters`` schema, one value per property.

    Defaults are kept, enums take their first value, strings follow their ``format`` or
    the words of the property's name (a date is the next weekday after ``today``, a
    time ``10:30``, a name ``Maria Gonzalez``...), numbers stay within their bounds.
    """
    value = _example(parameters, "", today or datetime.date.today())
    return value if isinstance(value, dict) else {}


def _example(schema: Mapping[str, Any], name: str, today: datetime.date) -> Any:
    if schema.get("default") is not None:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {key: _example(prop, key, today) for key, prop in properties.items()}
    if kind == "array":
        item = _example(schema.get("items", {}), name, today)
        return [item] * max(1, schema.get("minItems", 1))
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return _example_number(schema, kind == "integer")
    return _example_string(schema, name, today)


def _example_number(schema: Mapping[str, Any], integer: bool) -> Any:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        value = (low + high) / 2
    elif low is not None:
        value = low + 1
    elif high is not None:
        value = high - 1
    else:
        value = 1
    if not integer:
        return float(value)
    whole = math.ceil(value)
    return whole if high is None else min(whole, math.floor(high))


def _example_date(today: datetime.date) -> str:
    return near_weekday(today).isoformat()


def _example_datetime(today: datetime.date) -> str:
    return f"{near_weekday(today).isoformat()}T10:30:00"


def _constant(text: str) -> Callable[[datetime.date], str]:
    return lambda today: text


#: Example makers by JSON-Schema ``format``.
_BY_FORMAT: dict[str, Callable[[datetime.date], str]] = {
    "date": _example_date,
    "date-time": _example_datetime,
    "time": _constant("10:30:00"),
    "duration": _constant("PT30M"),
    "email": _constant("maria.gonzalez@example.com"),
    "hostname": _constant("example.com"),
    "ipv4": _constant("192.0.2.10"),
    "ipv6": _constant("2001:db8::10"),
    "uuid": _constant("9b2f4c1e-5d6a-4e8b-9c3d-2a1f0e7b6c5d"),
}


def _by_name(name: str) -> Optional[Callable[[datetime.date], str]]:
    """An example maker from the words of a property's name (``patientName``: a name)."""
    words = {word.lower() for word in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name)}
    if "email" in words:
        return _BY_FORMAT["email"]
    if "phone" in words:
        return _constant("+14155550123")
    if words & {"url", "uri", "website"}:
        return _constant("https://example.com")
    if "datetime" in words or {"date", "time"} <= words:
        return _example_datetime
    if words & {"date", "day"}:
        return _example_date
    if "time" in words:
        return _constant("10:30")
    if "name" in words:
        return _constant("Maria Gonzalez")
    return None


def _example_string(schema: Mapping[str, Any], name: str, today: datetime.date) -> str:
    make = _BY_FORMAT.get(schema.get("format", "")) or _by_name(name)
    text = make(today) if make is not None else "example"
    low, high = schema.get("minLength"), schema.get("maxLength")
    if low is not None and len(text) < low:
        text += "x" * (low - len(text))
    if high is not None:
        text = text[:high]
    return text
