"""Factories with the deterministic tool call ids ``tool_call_id(0)``, ``(1)``, ... tests name."""

from __future__ import annotations

import json
from typing import Any

from flask_vapi import payloads
from flask_vapi.payloads import tool_call_id


def make_tool_calls(*calls: Any, **options: Any) -> dict[str, Any]:
    """:func:`flask_vapi.payloads.make_tool_calls`, the ``i``-th call without an id of its own
    getting ``tool_call_id(i)`` (the factory's default is a fresh id per call)."""
    message = payloads.make_tool_calls(*calls, **options)
    text = json.dumps(message)
    for index, call in enumerate(message["toolCallList"]):
        if index >= len(calls) or len(calls[index]) == 2:
            text = text.replace(call["id"], tool_call_id(index))
    result: dict[str, Any] = json.loads(text)
    return result
