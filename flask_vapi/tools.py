"""Tool handlers: registration, argument checking, and one ``results[]`` entry per tool call."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from marshmallow import Schema, ValidationError

from . import jsonio


class ToolError(Exception):
    """Raise in a tool handler to report a failure to the model with this exact text.

    Any other exception is reported as a generic failure, so internal details never
    reach the model (or the caller's ear).
    """


@dataclass
class ToolResult:
    """Return from a tool handler to add a spoken ``message`` or ``metadata`` to the result.

    ``message`` may be a string (spoken as is) or a Vapi ``ToolMessageComplete`` /
    ``ToolMessageFailed`` dict.  Set ``error`` instead of ``result`` to report a failure.
    """

    result: Any = None
    error: Optional[str] = None
    message: Union[str, dict[str, Any], None] = None
    metadata: Optional[dict[str, Any]] = None


@dataclass(frozen=True)
class Tool:
    """A registered tool handler."""

    name: str
    func: Callable[..., Any]
    description: Optional[str] = None
    #: Validates (and converts) the arguments before the handler runs.
    schema: Optional[Schema] = None
    #: Parameter names the handler requires, and those it accepts (``None``: any, ``**kwargs``).
    required: frozenset[str] = field(init=False, repr=False, compare=False)
    accepted: Optional[frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        required, accepted, open_ended = set(), set(), False
        for parameter in inspect.signature(self.func).parameters.values():
            if parameter.kind is parameter.VAR_KEYWORD:
                open_ended = True
            elif parameter.kind in (parameter.POSITIONAL_ONLY, parameter.VAR_POSITIONAL):
                if (
                    parameter.kind is parameter.POSITIONAL_ONLY
                    and parameter.default is parameter.empty
                ):
                    raise TypeError(
                        f"Tool handler {self.func.__qualname__} has the positional-only "
                        f"parameter {parameter.name!r}; tool arguments arrive as keywords."
                    )
            else:
                accepted.add(parameter.name)
                if parameter.default is parameter.empty:
                    required.add(parameter.name)
        object.__setattr__(self, "required", frozenset(required))
        object.__setattr__(self, "accepted", None if open_ended else frozenset(accepted))

    def prepare(self, arguments: Any) -> dict[str, Any]:
        """The keyword arguments for the handler, or :class:`ToolError` naming what is wrong."""
        if not isinstance(arguments, dict):
            raise ToolError(f"Invalid arguments for tool '{self.name}': expected a JSON object.")
        values: dict[str, Any] = arguments
        if self.schema is not None:
            try:
                values = dict(self.schema.load(values))
            except ValidationError as exc:
                raise ToolError(
                    f"Invalid arguments for tool '{self.name}': {describe_errors(exc.messages)}"
                ) from None
        # Checked against the handler's parameters rather than left to a TypeError,
        # so the model is told exactly which argument to fix.
        problems = []
        missing = self.required.difference(values)
        if missing:
            problems.append("missing " + ", ".join(map(repr, sorted(missing))))
        if self.accepted is not None:
            unexpected = set(values).difference(self.accepted)
            if unexpected:
                problems.append("unexpected " + ", ".join(map(repr, sorted(unexpected))))
        if problems:
            raise ToolError(f"Invalid arguments for tool '{self.name}': {'; '.join(problems)}.")
        return values


def describe_errors(messages: Any, path: str = "") -> str:
    """Flatten marshmallow's nested error messages into ``field: message. field: message.``."""
    if isinstance(messages, dict):
        return " ".join(
            describe_errors(value, f"{path}.{key}" if path else str(key))
            for key, value in messages.items()
        )
    if isinstance(messages, list) and all(isinstance(item, str) for item in messages):
        text = " ".join(messages)
        return f"{path}: {text}" if path else text
    return f"{path}: {messages}" if path else str(messages)


def result_text(value: Any) -> str:
    """A tool result as Vapi wants it: strings as is, ``None`` as ``""``, else compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return jsonio.dumps(value).decode("utf-8")


def spoken(message: Union[str, dict[str, Any]], failed: bool) -> dict[str, Any]:
    """A ``ToolMessageComplete``/``ToolMessageFailed`` from a string (dicts pass through)."""
    if isinstance(message, dict):
        return message
    return {"type": "request-failed" if failed else "request-complete", "content": message}


def result_entry(value: Any) -> dict[str, Any]:
    """The ``result``/``error``/``message``/``metadata`` part of a result from a return value."""
    if not isinstance(value, ToolResult):
        return {"result": result_text(value)}
    entry: dict[str, Any] = {}
    if value.error is not None:
        entry["error"] = str(value.error)
    else:
        entry["result"] = result_text(value.result)
    if value.message is not None:
        entry["message"] = spoken(value.message, value.error is not None)
    if value.metadata is not None:
        entry["metadata"] = value.metadata
    return entry
