"""Framework-neutral dispatch: validate a message, send its signals, return the answer Vapi expects.

Nothing here reads the HTTP request: :meth:`Dispatcher.receive` takes the parsed
body, so it can be driven directly by tests, the CLI or a background worker.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator
from typing import Any, Callable, NamedTuple, Union

from blinker import NamedSignal
from flask import Flask
from marshmallow import ValidationError

from . import errors, jsonio, signals
from .answers import check_answer
from .catalogue import ANSWERS, MESSAGE_KINDS, MessageKind
from .context import _message, _tool_call
from .models.common import ToolCall
from .models.messages import FunctionCall, Message, ToolCalls
from .settings import Settings
from .tools import Tool, ToolError, result_entry

logger = logging.getLogger("flask_vapi")

JSON = "application/json"
PCM = "application/octet-stream"
EMPTY_OBJECT = b"{}"


class Reply(NamedTuple):
    """What to send back to Vapi (always with HTTP 200)."""

    body: Union[bytes, Iterator[bytes]]
    content_type: str = JSON


def sync_callable(app: Flask, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func``, or for a coroutine function ``app.ensure_sync(func)``.

    Same result as always calling ``app.ensure_sync``, without its per-call
    ``inspect`` work for the common case of a plain function or method.
    """
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    if code is not None and not code.co_flags & inspect.CO_COROUTINE:
        return func
    return app.ensure_sync(func)


def handler_name(handler: Callable[..., Any]) -> str:
    """A readable name of a handler for log lines."""
    return getattr(handler, "__qualname__", None) or repr(handler)


class Dispatcher:
    """The responders and tools of one blueprint, and the dispatch of messages to them."""

    def __init__(self, blueprint: Any = None) -> None:
        #: Sent to receivers as ``blueprint=``: which endpoint received the message.
        self.blueprint = blueprint
        #: Wire type -> the one responder answering it.
        self.responders: dict[str, Callable[..., Any]] = {}
        #: Tool name -> :class:`~flask_vapi.tools.Tool`.
        self.tools: dict[str, Tool] = {}

    # -- registration -------------------------------------------------------------

    def add_responder(self, message_type: str, func: Callable[..., Any]) -> None:
        """Register the one responder of a response-bearing type."""
        if message_type not in ANSWERS:
            raise ValueError(f"{message_type!r} is not a response-bearing Vapi message type.")
        if message_type in self.responders:
            raise ValueError(
                f"A responder for {message_type!r} is already registered "
                f"({handler_name(self.responders[message_type])}); only one may answer."
            )
        self.responders[message_type] = func

    def add_tool(self, tool: Tool) -> None:
        """Register the one handler of a tool name."""
        if tool.name in self.tools:
            raise ValueError(
                f"A handler for tool {tool.name!r} is already registered "
                f"({handler_name(self.tools[tool.name].func)}); only one may answer."
            )
        self.tools[tool.name] = tool

    # -- dispatch -----------------------------------------------------------------

    def receive(self, app: Flask, payload: Any, settings: Settings) -> Reply:
        """Dispatch a parsed request body.

        Raises :class:`~flask_vapi.errors.Rejection` (400/422) when the body is not a
        valid Vapi message; otherwise returns the reply (HTTP 200).
        """
        message_dict = _envelope(payload)
        message_type = message_dict["type"]
        kind = MESSAGE_KINDS.get(message_type)
        model = kind.model if kind is not None else Message
        try:
            message = model.load(message_dict)
        except ValidationError as exc:
            raise errors.Rejection(
                422,
                errors.INVALID_MESSAGE,
                f"The {message_type!r} message is missing or has invalid fields.",
                exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages},
            ) from None

        token = _message.set(message)
        try:
            self.send(app, signals.message_received, message)
            if kind is None:
                self.send(app, signals.unknown_message, message)
                return Reply(EMPTY_OBJECT)
            self.send(app, kind.signal, message)
            return self._answer(app, kind, message, settings)
        finally:
            _message.reset(token)

    def send(self, app: Flask, signal: NamedSignal, message: Message | None, **extra: Any) -> None:
        """Send ``signal``; each receiver's exception is logged and signalled, not raised."""
        for receiver, exc in self._deliver(app, signal, message, extra):
            self.failed(app, message, exc, receiver)

    def failed(
        self, app: Flask, message: Message | None, exc: BaseException, handler: Callable[..., Any]
    ) -> None:
        """Log (without traceback) and signal a handler's or receiver's failure."""
        logger.error(
            "Vapi %s handler %s failed: %s: %s",
            repr(message.type) if message is not None else "request",
            handler_name(handler),
            type(exc).__name__,
            exc,
        )
        extra = {"exception": exc, "handler": handler}
        for _, inner in self._deliver(app, signals.handler_error, message, extra):
            # Only logged: signalling it again could loop.
            logger.error("A handler_error receiver failed: %s: %s", type(inner).__name__, inner)

    def _deliver(
        self, app: Flask, signal: NamedSignal, message: Message | None, extra: dict[str, Any]
    ) -> list[tuple[Callable[..., Any], Exception]]:
        """Call every receiver of ``signal`` (async ones too); return those that raised."""
        if not signal.receivers:
            return []
        failures = []
        for receiver in signal.receivers_for(app):
            try:
                sync_callable(app, receiver)(
                    app, message=message, blueprint=self.blueprint, **extra
                )
            except Exception as exc:
                failures.append((receiver, exc))
        return failures

    def _answer(self, app: Flask, kind: MessageKind, message: Message, settings: Settings) -> Reply:
        if kind.tools:
            if isinstance(message, ToolCalls):
                results = [self.run_tool(app, message, call) for call in message.tool_calls]
                return Reply(jsonio.dumps({"results": results}))
            if isinstance(message, FunctionCall):
                return Reply(jsonio.dumps(self._function_call(app, message)))
        answer = kind.answer
        if answer is None:
            return Reply(EMPTY_OBJECT)
        fallback = settings.fallbacks[kind.type]
        responder = self.responders.get(kind.type)
        if responder is None:
            logger.warning(
                "No responder is registered for Vapi %r messages; sent the fallback response.",
                kind.type,
            )
            return _encode(fallback)
        try:
            value = sync_callable(app, responder)(message)
            if not isinstance(value, Iterator):
                problems = check_answer(answer, value)
                if problems:
                    raise errors.InvalidResponse(kind.type, problems)
            return _encode(value)
        except Exception as exc:
            self.failed(app, message, exc, responder)
            return _encode(fallback)

    def run_tool(self, app: Flask, message: Message, call: ToolCall) -> dict[str, Any]:
        """Run one tool call; failures become the result's ``error`` string."""
        entry: dict[str, Any] = {"toolCallId": call.id, "name": call.name}
        entry.update(self._call_tool(app, message, call.name, call.arguments, call))
        return entry

    def _function_call(self, app: Flask, message: FunctionCall) -> dict[str, Any]:
        function = message.function_call
        entry = self._call_tool(app, message, function.name, function.parameters, None)
        return {key: entry[key] for key in ("result", "error") if key in entry}

    def _call_tool(
        self, app: Flask, message: Message, name: str, arguments: Any, call: ToolCall | None
    ) -> dict[str, Any]:
        tool = self.tools.get(name)
        if tool is None:
            logger.warning("Vapi called tool %r, which has no handler.", name)
            return {"error": f"No tool named '{name}' is available."}
        token = _tool_call.set(call) if call is not None else None
        try:
            value = sync_callable(app, tool.func)(**tool.prepare(arguments))
            return result_entry(value)
        except ToolError as exc:
            return {"error": str(exc)}
        except Exception as exc:
            self.failed(app, message, exc, tool.func)
            return {"error": f"The tool '{name}' failed with an internal error."}
        finally:
            if token is not None:
                _tool_call.reset(token)


def _envelope(payload: Any) -> dict[str, Any]:
    """The ``message`` object of a body, or a 400 :class:`~flask_vapi.errors.Rejection`."""
    if not isinstance(payload, dict):
        raise errors.Rejection(
            400, errors.INVALID_ENVELOPE, "The request body must be a JSON object."
        )
    message = payload.get("message")
    if not isinstance(message, dict):
        raise errors.Rejection(
            400, errors.INVALID_ENVELOPE, "The request body must have a 'message' object."
        )
    if not isinstance(message.get("type"), str):
        raise errors.Rejection(
            400, errors.INVALID_ENVELOPE, "The message must have a string 'type'."
        )
    return message


def _encode(value: Any) -> Reply:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Reply(bytes(value), PCM)
    if isinstance(value, Iterator):
        return Reply(value, PCM)
    return Reply(jsonio.dumps(value))
