"""Factories of tool and transfer messages: tool-calls, transfer, handoff, phone-call control."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any, Union

from ._common import (
    AUTO,
    _assistant,
    _auto,
    _booking_args,
    _call_event,
    _destination_number,
    _now_ms,
    _server,
    fresh_tool_call_id,
)
from ._history import _history

_TOOL_DESCRIPTIONS = {
    "bookAppointment": "Book an appointment for a patient with a doctor of the clinic.",
    "checkAvailability": "List free appointment slots of a doctor on a given date.",
    "transferCall": "Transfer the caller to a member of staff.",
}

ToolCallSpec = Union[tuple[str, Mapping[str, Any]], tuple[str, Mapping[str, Any], str]]
"""``(name, arguments)`` or ``(name, arguments, tool_call_id)`` for :func:`make_tool_calls`."""


def _pending_tool_calls_artifact(
    tool_calls: Sequence[Mapping[str, Any]], now_ms: int
) -> tuple[dict[str, Any], int]:
    """Artifact of a call whose model just requested ``tool_calls``; returns it and the start."""
    history = _history(5, now_ms - 700)
    openai_calls = []
    for call in tool_calls:
        function = call["function"]
        arguments = function["arguments"]
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        fn = {"name": function["name"], "arguments": arguments}
        openai_calls.append({"id": call["id"], "type": "function", "function": fn})
    pending = {
        "role": "tool_calls",
        "toolCalls": openai_calls,
        "message": "",
        "time": now_ms - 200,
        "secondsFromStart": (now_ms - 200 - history.start_ms) / 1000,
    }
    history.messages.append(pending)
    history.openai.append(
        {"role": "assistant", "content": "", "tool_calls": copy.deepcopy(openai_calls)}
    )
    artifact = {"messages": history.messages, "messagesOpenAIFormatted": history.openai}
    return artifact, history.start_ms


def make_handoff_destination_request(
    *, parameters: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``handoff-destination-request``: ``parameters`` are the handoff tool's LLM arguments."""
    default = {"department": "billing", "reason": "Question about an outstanding invoice"}
    fields = {"parameters": default if parameters is AUTO else parameters}
    return _call_event("handoff-destination-request", timestamp_as, overrides, fields)


def make_phone_call_control(
    *,
    request: str | None = "forward",
    destination: Any = AUTO,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``phone-call-control``: ``request`` forward (to a number destination) or hang-up."""
    if destination is AUTO:
        destination = _destination_number() if request == "forward" else None
    fields = {"request": request, "destination": destination}
    return _call_event("phone-call-control", timestamp_as, overrides, fields)


def _parameters_schema(value: Any) -> dict[str, Any]:
    """A loose JSON Schema describing ``value`` (as an LLM tool definition would)."""
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, Mapping):
        properties = {str(key): _parameters_schema(item) for key, item in value.items()}
        return {"type": "object", "properties": properties, "required": list(properties)}
    if isinstance(value, (list, tuple)):
        return {"type": "array", "items": _parameters_schema(value[0]) if value else {}}
    return {"type": "string"}


def _tool_call(name: str, arguments: Mapping[str, Any], id_: str, as_string: bool) -> Any:
    args: Any = json.dumps(arguments) if as_string else copy.deepcopy(dict(arguments))
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": args}}


def _function_tool(name: str, arguments: Mapping[str, Any], id_: str, as_string: bool) -> Any:
    function = {
        "name": name,
        "description": _TOOL_DESCRIPTIONS.get(name, f"The {name} tool of the clinic."),
        "parameters": _parameters_schema(arguments),
    }
    return {
        "type": "function",
        "function": function,
        "async": False,
        "server": _server("/tools"),
        "messages": [],
        "toolCall": _tool_call(name, arguments, id_, as_string),
    }


def make_tool_calls(
    *calls: ToolCallSpec, arguments_as: str = "string", timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``tool-calls``: each call is ``(name, arguments)`` or ``(name, arguments, id)``.

    Without calls, one ``bookAppointment`` call is made.  ``function.arguments`` is sent
    JSON-encoded, as the current spec types it and as Vapi sends it in 2026;
    ``arguments_as="object"`` sends the object instead, as 2024 payloads did.
    """
    if arguments_as not in ("object", "string"):
        raise ValueError(f"arguments_as must be 'object' or 'string', not {arguments_as!r}")
    as_string = arguments_as == "string"
    specs: Sequence[Sequence[Any]] = calls or (("bookAppointment", _booking_args()),)
    tool_call_list, tools = [], []
    for index, spec in enumerate(specs):
        if len(spec) not in (2, 3):
            raise ValueError(f"tool call {index} must be (name, arguments[, id]), not {spec!r}")
        name, arguments = spec[0], spec[1]
        id_ = spec[2] if len(spec) == 3 else fresh_tool_call_id()
        tool_call_list.append(_tool_call(name, arguments, id_, as_string))
        tools.append(_function_tool(name, arguments, id_, as_string))
    now = _now_ms()
    artifact, start = _pending_tool_calls_artifact(tool_call_list, now)
    fields = {"toolCallList": tool_call_list, "toolWithToolCallList": tools}
    context: dict[str, Any] = {"now_ms": now, "start_ms": start, "artifact": artifact}
    return _call_event("tool-calls", timestamp_as, overrides, fields, **context)


def make_transfer_destination_request(
    *, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``transfer-destination-request``: the model called ``transferCall`` with no destination."""
    now = _now_ms()
    pending = [_tool_call("transferCall", {}, fresh_tool_call_id(), True)]
    artifact, start = _pending_tool_calls_artifact(pending, now)
    context: dict[str, Any] = {"now_ms": now, "start_ms": start, "artifact": artifact}
    return _call_event("transfer-destination-request", timestamp_as, overrides, **context)


def make_transfer_update(
    *, destination: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``transfer-update``; an ``assistant`` destination adds ``toAssistant``/``fromAssistant``."""
    destination = _auto(destination, _destination_number)
    fields: dict[str, Any] = {"destination": destination}
    if isinstance(destination, Mapping) and destination.get("type") == "assistant":
        name = destination.get("assistantName", "Billing Assistant")
        greeting = "Hi, this is the billing desk. How can I help?"
        fields["toAssistant"] = _assistant(name=name, firstMessage=greeting)
        fields["fromAssistant"] = _assistant()
    return _call_event("transfer-update", timestamp_as, overrides, fields)
