"""Tool handlers: registration, argument checking, and one ``results[]`` entry per tool call."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from marshmallow import Schema, ValidationError

from . import jsonio, toolschema
from .errors import ConfigurationError

#: Vapi's rule for ``function.name`` (``OpenAIFunction.name``), checked at registration.
NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")


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
    """A registered tool handler and the one schema of its arguments.

    Raises :class:`~flask_vapi.ConfigurationError` for a name Vapi refuses and (without
    ``schema``) for a parameter whose annotation has no JSON type.
    """

    name: str
    func: Callable[..., Any]
    description: Optional[str] = None
    #: The marshmallow schema given with ``@vapi.tool(schema=...)``, if any.
    schema: Optional[Schema] = None
    #: The one schema of the arguments: it validates and converts them before the handler
    #: runs, and is exported as the tool definition's ``parameters``.  ``schema`` when given,
    #: else derived from the handler's annotations and defaults.
    arguments_schema: Schema = field(init=False, repr=False, compare=False)
    #: Parameter names the handler requires, and those it accepts (``None``: any, ``**kwargs``).
    required: frozenset[str] = field(init=False, repr=False, compare=False)
    accepted: Optional[frozenset[str]] = field(init=False, repr=False, compare=False)
    #: Argument -> its one type that needs no load (see :func:`~flask_vapi.toolschema.fast_types`).
    fast_types: Optional[dict[str, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not NAME_PATTERN.fullmatch(self.name):
            raise ConfigurationError(
                f"The tool name {self.name!r} is not a valid Vapi function name: use 1 to 64 "
                "characters from a-z, A-Z, 0-9, '_' and '-'."
            )
        described = toolschema.signature(self.func)
        names = [parameter.name for parameter in described.parameters]
        required = [p.name for p in described.parameters if p.default is p.empty]
        if self.schema is None:
            schema = toolschema.signature_schema(self.name, self.func, described)
            fast = toolschema.fast_types(schema)
        else:
            schema, fast = self.schema, None
        set_ = object.__setattr__
        set_(self, "arguments_schema", schema)
        set_(self, "required", frozenset(required))
        set_(self, "accepted", None if described.open_ended else frozenset(names))
        set_(self, "fast_types", fast)

    def prepare(self, arguments: Any) -> dict[str, Any]:
        """The keyword arguments for the handler, or :class:`ToolError` naming what is wrong."""
        if not isinstance(arguments, dict):
            raise ToolError(f"Invalid arguments for tool '{self.name}': expected a JSON object.")
        fast, anything = self.fast_types, toolschema.ANY
        if fast is not None:  # every argument of exactly its type: what load would return
            other = anything if self.accepted is None else None
            for key, value in arguments.items():
                kind = fast.get(key, other)
                if kind is not anything and type(value) is not kind:
                    break
            else:
                if self.required <= arguments.keys():
                    return arguments
        try:
            values = dict(self.arguments_schema.load(arguments))
        except ValidationError as exc:
            raise ToolError(
                f"Invalid arguments for tool '{self.name}': {self._describe(exc.messages)}"
            ) from None
        if self.schema is not None:
            # A given schema's output is checked against the handler's parameters rather
            # than left to a TypeError, so the model is told exactly which argument to fix.
            problems = _names("missing", self.required.difference(values))
            if self.accepted is not None:
                problems += _names("unexpected", set(values).difference(self.accepted))
            if problems:
                raise ToolError(f"Invalid arguments for tool '{self.name}': {'; '.join(problems)}.")
        return values

    def _describe(self, messages: Any) -> str:
        """Marshmallow's messages; for a derived schema, missing and unknown names first."""
        if self.schema is not None or not isinstance(messages, dict):
            return describe_errors(messages)
        declared = self.arguments_schema.fields
        unknown = [self.arguments_schema.error_messages["unknown"]]
        missing, unexpected, rest = set(), set(), {}
        for key, value in messages.items():
            if key in declared and value == [declared[key].error_messages["required"]]:
                missing.add(key)
            elif key not in declared and value == unknown:
                unexpected.add(key)
            else:
                rest[key] = value
        problems = _names("missing", missing) + _names("unexpected", unexpected)
        parts = ["; ".join(problems) + "."] if problems else []
        if rest:
            parts.append(describe_errors(rest))
        return " ".join(parts)


def _names(label: str, names: Any) -> list[str]:
    return [f"{label} " + ", ".join(map(repr, sorted(names)))] if names else []


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
