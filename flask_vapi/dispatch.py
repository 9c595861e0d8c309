"""Framework-neutral dispatch: validate a message, send its signals, return the answer Vapi expects.

Nothing here reads the HTTP request: :meth:`Dispatcher.receive` takes the parsed
body, so it can be driven directly by tests, the CLI or a background worker.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, Callable, NamedTuple, Union

from blinker import NamedSignal
from flask import Flask
from marshmallow import ValidationError

from . import errors, jsonio, signals
from .answers import check_answer
from .catalogue import ANSWERS, FLAT_TYPES, MESSAGE_KINDS, MessageKind
from .context import _message, _tool_call
from .logs import logger, quoted, short, wants_traceback
from .models.common import ToolCall
from .models.messages import FunctionCall, Message, ToolCalls
from .runner import check_registrable, handler_name, sync_callable
from .settings import Settings
from .tools import Tool, ToolError, describe_errors, result_entry

JSON = "application/json"
PCM = "application/octet-stream"
EMPTY_OBJECT = b"{}"
#: ``@vapi.on("*")``: every message, whatever its type (unknown types included).
ALL = "*"
#: Unknown tool names listed by name in one log line; the rest are counted.
_NAMES_LOGGED = 5
_ARGUMENTS = "function.arguments"


class Reply(NamedTuple):
    """What to send back to Vapi (always with HTTP 200)."""

    body: Union[bytes, Iterator[bytes]]
    content_type: str = JSON


class Dispatcher:
    """The responders, tools and receivers of one blueprint, and the dispatch of messages."""

    def __init__(self, blueprint: Any = None) -> None:
        #: Sent to receivers as ``blueprint=``: which endpoint received the message.
        self.blueprint = blueprint
        #: Wire type -> the one responder answering it.
        self.responders: dict[str, Callable[..., Any]] = {}
        #: Tool name -> :class:`~flask_vapi.tools.Tool`.
        self.tools: dict[str, Tool] = {}
        #: Signal name (or ``"*"``) -> receivers registered with ``@vapi.on``, held strongly.
        self.receivers: dict[str, list[Callable[[Message], Any]]] = {}

    # -- registration -------------------------------------------------------------

    def add_responder(self, message_type: str, func: Callable[..., Any]) -> None:
        """Register the one responder of a response-bearing type."""
        if message_type not in ANSWERS:
            raise errors.ConfigurationError(
                f"{message_type!r} is not a response-bearing Vapi message type"
                f"{_suggestion(message_type, ANSWERS)}; they are: {', '.join(sorted(ANSWERS))}."
            )
        if message_type in self.responders:
            raise errors.ConfigurationError(
                f"A responder for {message_type!r} is already registered "
                f"({handler_name(self.responders[message_type])}); only one may answer."
            )
        check_registrable(func, f"The responder for {message_type!r}")
        self.responders[message_type] = func

    def add_tool(self, tool: Tool) -> None:
        """Register the one handler of a tool name."""
        if tool.name in self.tools:
            raise errors.ConfigurationError(
                f"A handler for tool {tool.name!r} is already registered "
                f"({handler_name(self.tools[tool.name].func)}); only one may answer."
            )
        check_registrable(tool.func, f"The handler of tool {tool.name!r}")
        self.tools[tool.name] = tool

    def add_receiver(self, message_types: Iterable[str], func: Callable[[Message], Any]) -> None:
        """Call ``func(message)`` for every message of these types (``"*"``: every message)."""
        check_registrable(func, "A receiver")
        names = []
        for message_type in message_types:
            if message_type == ALL:
                names.append(ALL)
                continue
            kind = MESSAGE_KINDS.get(message_type)
            if kind is None:
                raise errors.ConfigurationError(
                    f"{message_type!r} is not a Vapi message type"
                    f"{_suggestion(message_type, MESSAGE_KINDS)}; use '*' for every message."
                )
            names.append(kind.signal.name)
        if not names:
            raise errors.ConfigurationError("Name at least one message type, or '*'.")
        for name in dict.fromkeys(names):
            self.receivers.setdefault(name, []).append(func)

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
                message_type=message_type,
                call_id=_call_id(message_dict),
            ) from None

        if message.invalid_fields:
            logger.warning(
                "The Vapi %s message has fields that failed validation (they read None): %s",
                quoted(message_type),
                short(", ".join(message.invalid_fields)),
            )
        token = _message.set(message)
        try:
            self.send(app, signals.message_received, message)
            if kind is None:
                logger.info(
                    "Received a Vapi message of unknown type %s; answered {}.", quoted(message_type)
                )
                self.send(app, signals.unknown_message, message)
                self._notify(app, ALL, message)
                return Reply(EMPTY_OBJECT)
            self.send(app, kind.signal, message)
            self._notify(app, kind.signal.name, message)
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
        """Log (with the traceback when debugging) and signal a handler's or receiver's failure."""
        logger.error(
            "Vapi %s handler %s failed: %s: %s",
            quoted(message.type) if message is not None else "request",
            handler_name(handler),
            type(exc).__name__,
            short(exc),
            exc_info=exc if wants_traceback(app) else None,
        )
        extra = {"exception": exc, "handler": handler}
        for _, inner in self._deliver(app, signals.handler_error, message, extra):
            # Only logged: signalling it again could loop.
            logger.error(
                "A handler_error receiver failed: %s: %s", type(inner).__name__, short(inner)
            )

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

    def _notify(self, app: Flask, name: str, message: Message) -> None:
        """Call the ``@vapi.on`` receivers of ``name`` and of ``"*"``; failures are isolated."""
        if not self.receivers:
            return
        chosen = self.receivers.get(name, [])
        if name != ALL:
            chosen = chosen + self.receivers.get(ALL, [])
        for receiver in chosen:
            try:
                sync_callable(app, receiver)(message)
            except Exception as exc:
                self.failed(app, message, exc, receiver)

    # -- answers ------------------------------------------------------------------

    def _answer(self, app: Flask, kind: MessageKind, message: Message, settings: Settings) -> Reply:
        if kind.tools:
            if isinstance(message, ToolCalls):
                return Reply(jsonio.dumps({"results": self.run_tools(app, message)}))
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
            if answer.schema is None and _is_stream(value):
                return Reply(self._stream(app, message, responder, value), PCM)
            problems = check_answer(answer, value)
            if problems:
                raise errors.InvalidResponse(kind.type, problems)
            return _encode(value)
        except Exception as exc:
            self.failed(app, message, exc, responder)
            return _encode(fallback)

    def _stream(
        self, app: Flask, message: Message, responder: Callable[..., Any], chunks: Iterable[Any]
    ) -> Iterator[bytes]:
        """Stream a voice answer; a failure halfway is logged once and ends the stream."""
        iterator = iter(chunks)
        try:
            while True:
                token = _message.set(message)  # the generator runs after dispatch returned
                try:
                    chunk = next(iterator)
                except StopIteration:
                    return
                finally:
                    _message.reset(token)
                if not isinstance(chunk, (bytes, bytearray, memoryview)):
                    raise errors.InvalidResponse(
                        message.type, {"_schema": [f"Yield bytes, not {type(chunk).__name__}."]}
                    )
                yield bytes(chunk)
        except Exception as exc:
            self.failed(app, message, exc, responder)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    # -- tools --------------------------------------------------------------------

    def run_tools(self, app: Flask, message: ToolCalls) -> list[dict[str, Any]]:
        """One result per tool call, in order; unknown tools are logged once per message."""
        results = []
        unknown: Counter[str] = Counter()
        for call in message.tool_calls:
            if call.name not in self.tools and not _broken_parts(call):
                unknown[call.name] += 1
            results.append(self.run_tool(app, message, call))
        if unknown:
            _log_unknown_tools(unknown)
        return results

    def run_tool(self, app: Flask, message: Message, call: ToolCall) -> dict[str, Any]:
        """Run one tool call; failures become the result's ``error`` string."""
        entry: dict[str, Any] = {"toolCallId": call.id, "name": call.name}
        broken = _broken_parts(call)
        if broken:  # one broken call of a batch: answered, not run
            entry["error"] = f"Invalid tool call: {describe_errors(broken)}"
            return entry
        entry.update(self._call_tool(app, message, call.name, call.arguments, call))
        return entry

    def _function_call(self, app: Flask, message: FunctionCall) -> dict[str, Any]:
        function = message.function_call
        if function.name not in self.tools:
            _log_unknown_tools(Counter([function.name]))
        entry = self._call_tool(app, message, function.name, function.parameters, None)
        return {key: entry[key] for key in ("result", "error") if key in entry}

    def _call_tool(
        self, app: Flask, message: Message, name: str, arguments: Any, call: ToolCall | None
    ) -> dict[str, Any]:
        tool = self.tools.get(name)
        if tool is None:
            return {"error": f"No tool named '{name}' is available."}
        try:
            kwargs = tool.prepare(arguments)
        except ToolError as exc:
            logger.info(
                "Vapi tool %s was called with invalid arguments: %s", quoted(name), short(exc)
            )
            return {"error": str(exc)}
        except Exception as exc:  # a schema= hook or validator of the user's that raised
            self.failed(app, message, exc, tool.func)
            return {"error": _internal_error(name)}
        token = _tool_call.set(call) if call is not None else None
        try:
            value = sync_callable(app, tool.func)(**kwargs)
            return result_entry(value)
        except ToolError as exc:
            return {"error": str(exc)}
        except Exception as exc:
            self.failed(app, message, exc, tool.func)
            return {"error": _internal_error(name)}
        finally:
            if token is not None:
                _tool_call.reset(token)


def _envelope(payload: Any) -> dict[str, Any]:
    """The ``message`` object of a body, or a 400 :class:`~flask_vapi.errors.Rejection`.

    Simulation events (``simulation.run.*``) have no envelope: the body is the message.
    """
    if not isinstance(payload, dict):
        raise errors.Rejection(
            400, errors.INVALID_ENVELOPE, "The request body must be a JSON object."
        )
    message = payload.get("message")
    if message is None and payload.get("type") in FLAT_TYPES:
        return payload
    if not isinstance(message, dict):
        raise errors.Rejection(
            400, errors.INVALID_ENVELOPE, "The request body must have a 'message' object."
        )
    if not isinstance(message.get("type"), str):
        raise errors.Rejection(
            400, errors.INVALID_ENVELOPE, "The message must have a string 'type'."
        )
    return message


def _call_id(message: dict[str, Any]) -> str | None:
    call = message.get("call")
    call_id = call.get("id") if isinstance(call, dict) else None
    return call_id if isinstance(call_id, str) else None


def _internal_error(name: str) -> str:
    return f"The tool '{name}' failed with an internal error."


def _broken_parts(call: ToolCall) -> dict[str, list[str]]:
    """What makes a tool call unanswerable; arguments are left to the tool, which names them."""
    return {path: problems for path, problems in call.invalid_fields.items() if path != _ARGUMENTS}


def _suggestion(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _log_unknown_tools(unknown: Counter[str]) -> None:
    """One warning for every unknown tool of a message, however many calls it had."""
    names = [
        quoted(name) + (f" ({count} calls)" if count > 1 else "")
        for name, count in unknown.most_common(_NAMES_LOGGED)
    ]
    if len(unknown) > _NAMES_LOGGED:
        names.append(f"and {len(unknown) - _NAMES_LOGGED} more")
    logger.warning("Vapi called tools that have no handler: %s.", ", ".join(names))


def _is_stream(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(
        value, (bytes, bytearray, memoryview, str, dict)
    )


def _encode(value: Any) -> Reply:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Reply(bytes(value), PCM)
    return Reply(jsonio.dumps(value))
