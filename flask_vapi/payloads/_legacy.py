"""Factories of legacy message types: function-call, language-changed, assistant.started."""

from __future__ import annotations

import json
from typing import Any

from ._common import AUTO, _assistant, _auto, _booking_args, _call_event


def make_function_call(
    *,
    name: str = "bookAppointment",
    parameters: Any = AUTO,
    parameters_as: str = "string",
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """Legacy ``function-call``: ``functionCall`` {name, parameters (JSON string by default)}."""
    if parameters_as not in ("object", "string"):
        raise ValueError(f"parameters_as must be 'object' or 'string', not {parameters_as!r}")
    parameters = _auto(parameters, _booking_args)
    if parameters_as == "string" and not isinstance(parameters, str):
        parameters = json.dumps(parameters)
    fields = {"functionCall": {"name": name, "parameters": parameters}}
    return _call_event("function-call", timestamp_as, overrides, fields)


def make_language_changed(
    *, language: str | None = "es", timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """Legacy ``language-changed`` (now ``language-change-detected``) with ``language``."""
    return _call_event("language-changed", timestamp_as, overrides, {"language": language})


def make_assistant_started(
    *, new_assistant: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``assistant.started`` (no server schema): ``newAssistant`` is the assistant now active."""
    fields = {"newAssistant": _auto(new_assistant, _assistant)}
    return _call_event("assistant.started", timestamp_as, overrides, fields)
