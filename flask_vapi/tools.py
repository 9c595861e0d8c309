"""Tool handlers: registration, argument checking, and one ``results[]`` entry per tool call."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from marshmallow import Schema, ValidationError
from werkzeug.sansio.response import Response

from . import jsonio, toolschema
from .errors import ConfigurationError, InvalidResponse
from .runner import check_registrable

#: Vapi's rule for ``function.name`` (``OpenAIFunction.name``), checked at registration.
NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")


class ToolError(Exception):
    """Raise in a tool handler to report a failure to the model with this exact text.

    Any other exception is reported as a generic failure, so internal details never
    reach the model (or the caller's ear).
    """


class InvalidToolResult(InvalidResponse):
    """A tool returned a value that cannot be sent as its result (sent as ``handler_error``).

    A Flask ``Response``, ``bytes``, or a result, ``message`` or ``metadata`` that cannot be
    encoded as JSON.  The call gets the generic internal-error text, as for an exception.
    """

    def __init__(self, problem: str) -> None:
        super().__init__("tool-calls", problem)
        self.args = (problem,)


@dataclass
class ToolResult:
    """Return from a tool handler to add a spoken ``message`` or ``metadata`` to the result.

    ``result`` is encoded as a plain return value is (see :func:`result_text`).  ``message``
    may be a string (spoken as is, typed ``request-complete``, or ``request-failed`` when
    ``error`` is set) or a Vapi ``ToolMessageComplete`` / ``ToolMessageFailed`` dict, sent
    as it is.  Set ``error`` instead of ``result`` to report a failure.  ``metadata`` is a
    dict forwarded to client SDKs.  Anything here that cannot be encoded as JSON makes the
    call's result the generic internal error (and an :class:`InvalidToolResult` on
    ``handler_error``), never an HTTP error.
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
    #: The tool's own budget in seconds (within the ``tool-calls`` budget); ``None``: that one.
    timeout: Optional[float] = None
    #: The answer when the budget runs out (a string result or a :class:`ToolResult`);
    #: ``None``: the error "The tool 'x' did not finish in time.".
    on_timeout: Union[str, ToolResult, None] = None
    #: Answered at once (``on_timeout`` or "started"); the result goes by Live Call Control.
    background: bool = False
    #: A result that comes after the budget goes by Live Call Control too.
    deliver_late: bool = False
    #: The ``results[]`` entry part sent when the budget runs out (or at once, background).
    timeout_entry: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not NAME_PATTERN.fullmatch(self.name):
            raise ConfigurationError(
                f"The tool name {self.name!r} is not a valid Vapi function name: use 1 to 64 "
                "characters from a-z, A-Z, 0-9, '_' and '-'."
            )
        check_registrable(self.func, f"The handler of tool {self.name!r}")
        object.__setattr__(self, "timeout_entry", self._timeout_entry())
        described = toolschema.signature(self.name, self.func)
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

    def _timeout_entry(self) -> dict[str, Any]:
        what = f"The tool {self.name!r}"
        if self.timeout is not None and (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, (int, float))
            or not 0 < self.timeout < float("inf")
        ):
            raise ConfigurationError(
                f"{what}: timeout must be a positive number of seconds, not {self.timeout!r}."
            )
        if self.background and self.deliver_late:
            raise ConfigurationError(
                f"{what}: background=True already delivers its result later; "
                "deliver_late=True is for tools answered in time when they can be."
            )
        if self.background and self.timeout is not None:
            raise ConfigurationError(f"{what}: background=True is answered at once; drop timeout=.")
        if self.on_timeout is None:
            if self.background:
                return {"result": f"The tool '{self.name}' started; its result will follow."}
            return {"error": f"The tool '{self.name}' did not finish in time."}
        if not isinstance(self.on_timeout, (str, ToolResult)):
            raise ConfigurationError(
                f"{what}: on_timeout must be a str or a ToolResult, "
                f"not {type(self.on_timeout).__name__}."
            )
        try:
            return result_entry(self.on_timeout)
        except InvalidToolResult as exc:
            raise ConfigurationError(f"{what}: on_timeout is not a valid result: {exc}") from None

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
    """A tool result as Vapi wants it: a single string.

    ``str`` as is, ``None`` as ``""``, anything else as compact JSON through
    :func:`flask_vapi.jsonio.dumps` (numbers, bools, lists, dicts; date/time types as ISO
    text; ``Decimal`` and ``UUID`` as their text; an ``Enum`` as its value; a dataclass as
    a dict; sets and tuples as lists).  Raises :class:`InvalidToolResult` for a Flask
    ``Response``, for ``bytes`` (decode text yourself; binary data means nothing to the
    model) and for a value JSON cannot encode.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, Response):
        raise InvalidToolResult(
            "the tool returned a Flask Response: return the value, not a Response "
            "(flask-vapi builds the webhook's response)"
        )
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise InvalidToolResult(
            f"a result cannot be {type(value).__name__} (bytes): return text or a JSON value"
        )
    try:
        return jsonio.dumps(value).decode("utf-8")
    except jsonio.EncodeError as exc:
        raise InvalidToolResult(_unencodable("the result", exc)) from None


def spoken(message: Union[str, dict[str, Any]], failed: bool) -> dict[str, Any]:
    """A ``ToolMessageComplete``/``ToolMessageFailed`` from a string (dicts pass through)."""
    if isinstance(message, dict):
        return message
    if not isinstance(message, str):
        raise InvalidToolResult(
            "ToolResult.message must be a str or a dict (a ToolMessageComplete or "
            f"ToolMessageFailed), not {type(message).__name__}"
        )
    return {"type": "request-failed" if failed else "request-complete", "content": message}


def result_entry(value: Any) -> dict[str, Any]:
    """The ``result``/``error``/``message``/``metadata`` part of a result from a return value.

    The entry is guaranteed to encode as JSON; otherwise this raises
    :class:`InvalidToolResult` (the caller reports the generic error).
    """
    if not isinstance(value, ToolResult):
        text = result_text(value)
        entry: dict[str, Any] = {"result": text}
        # Text that jsonio.dumps produced, or ASCII text, always encodes: skip the check.
        if not isinstance(value, str) or text.isascii():
            return entry
    else:
        entry = {}
        if value.error is not None:
            entry["error"] = str(value.error)
        else:
            entry["result"] = result_text(value.result)
        if value.message is not None:
            entry["message"] = spoken(value.message, value.error is not None)
        if value.metadata is not None:
            if not isinstance(value.metadata, dict):
                raise InvalidToolResult(
                    f"ToolResult.metadata must be a dict, not {type(value.metadata).__name__}"
                )
            entry["metadata"] = value.metadata
    try:
        # Once per entry, nested as it is sent, so that a backend's depth limit agrees.
        jsonio.dumps({"results": [entry]})
    except jsonio.EncodeError as exc:
        raise InvalidToolResult(_unencodable("the result, message or metadata", exc)) from None
    return entry


def _unencodable(what: str, exc: BaseException) -> str:
    return f"{what} cannot be encoded as JSON ({type(exc).__name__}: {exc})"
