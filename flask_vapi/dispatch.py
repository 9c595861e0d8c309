"""Framework-neutral dispatch: validate a message, send its signals, return the answer Vapi expects.

Nothing here reads the HTTP request: :meth:`Dispatcher.receive` takes the parsed
body, so it can be driven directly by tests, the CLI or a background worker.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from blinker import NamedSignal
from flask import Flask
from marshmallow import ValidationError

from . import errors, jsonio, observe, signals
from .answers import check_answer
from .catalogue import ANSWERS, FLAT_TYPES, MESSAGE_KINDS, MessageKind
from .context import _call_state, _message
from .logs import logger, quoted, short, wants_traceback
from .models.messages import FunctionCall, Message, ToolCalls, call_id_in
from .once import OnceMixin
from .reply import EMPTY_OBJECT, PCM, Reply
from .runner import Job, check_registrable, handler_name, sync_callable
from .settings import Settings
from .store.dedup import message_key
from .store.state import CallState
from .toolcalls import ToolCallsMixin
from .tools import Tool

if TYPE_CHECKING:
    from .background.receivers import BackgroundReceiver

T = TypeVar("T")
_END_OF_CALL = "end-of-call-report"
#: ``@vapi.on("*")``: every message, whatever its type (unknown types included).
ALL = "*"


class Dispatcher(ToolCallsMixin, OnceMixin):
    """The responders, tools and receivers of one blueprint, and the dispatch of messages."""

    def __init__(self, blueprint: Any = None) -> None:
        super().__init__()
        #: Sent to receivers as ``blueprint=``: which endpoint received the message.
        self.blueprint = blueprint
        #: Wire type -> the one responder answering it.
        self.responders: dict[str, Callable[..., Any]] = {}
        #: Tool name -> :class:`~flask_vapi.tools.Tool`.
        self.tools: dict[str, Tool] = {}
        #: Types whose receivers were once seen using up the budget (said once each).
        self._slow_receivers: set[str] = set()
        #: Signal name (or ``"*"``) -> receivers registered with ``@vapi.on``, held strongly.
        self.receivers: dict[str, list[Callable[[Message], Any]]] = {}
        #: The same for ``@vapi.on(..., background=True)``: run off the request path.
        self.background: dict[str, list[BackgroundReceiver]] = {}

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

    def add_receiver(
        self,
        message_types: Iterable[str],
        func: Callable[[Message], Any],
        background: bool = False,
    ) -> None:
        """Call ``func(message)`` for every message of these types (``"*"``: every message);
        ``background``: off the request path, after the answer (``VAPI_BACKGROUND``)."""
        check_registrable(func, "A receiver")
        message_types = list(message_types)
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
        if background:
            from .background import receivers  # only apps with background receivers

            if self.blueprint is None:
                raise errors.ConfigurationError("Background receivers need a VapiBlueprint.")
            record = receivers.register(self.blueprint, func, message_types)
            for name in dict.fromkeys(names):
                self.background.setdefault(name, []).append(record)
            return
        for name in dict.fromkeys(names):
            self.receivers.setdefault(name, []).append(func)

    # -- dispatch -----------------------------------------------------------------

    def receive(
        self,
        app: Flask,
        payload: Any,
        settings: Settings,
        arrived: float | None = None,
        body: bytes | None = None,
        *,
        replay: bool = False,
    ) -> Reply:
        """Dispatch a parsed request body.

        ``arrived`` (``time.monotonic()``, default now) is when the request arrived: budgets
        count from it.  ``body``, the raw bytes, identifies a redelivery (without it, only
        tool calls are deduplicated).  ``replay``: a recorded message sent again on purpose,
        not deduplicated, and not ending its call.  Raises :class:`~flask_vapi.errors.Rejection`
        (400/422) when the body is not a valid Vapi message; otherwise returns the reply.
        """
        if arrived is None:
            arrived = time.monotonic()
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
                call_id=call_id_in(message_dict),
            ) from None

        if message.invalid_fields:
            logger.warning(
                "The Vapi %s message has fields that failed validation (they read None): %s",
                quoted(message_type),
                short(", ".join(message.invalid_fields)),
            )
        call_id = call_id_in(message_dict)
        trace = observe.current_trace()
        if trace is not None:
            trace.message_type, trace.call_id = message_type, call_id
            trace.budget = settings.budgets.get(message_type)
        token = _message.set(message)
        state = _call_state.set(CallState(settings.store, call_id)) if call_id else None
        try:
            if kind is None:
                self.send(app, signals.message_received, message)
                logger.info(
                    "Received a Vapi message of unknown type %s; answered {}.", quoted(message_type)
                )
                self.send(app, signals.unknown_message, message)
                self._notify(app, ALL, message, message_dict, body, settings)
                return Reply(EMPTY_OBJECT)
            deadline = arrived + (settings.budgets.get(kind.type) or 0.0)
            key, first_answer = None, None
            if not replay:
                key, first_answer = self.first_delivery(
                    app, settings, kind, message, body, deadline
                )
            if first_answer is not None:
                return first_answer
            claims = None
            if settings.deduplicate and not replay and isinstance(message, ToolCalls):
                claims = self.claim_tool_calls(app, settings, message, arrived)
                if claims and not any(claims.values()):  # every call was delivered before
                    return self._answer(app, kind, message, settings, arrived, claims)
            self.send(app, signals.message_received, message)
            self.send(app, kind.signal, message)
            self._notify(app, kind.signal.name, message, message_dict, body, settings)
            budget = settings.budgets.get(kind.type)
            if budget is not None:
                took = time.monotonic() - arrived
                if took > budget:
                    self._receivers_were_slow(kind.type, budget, took)
            reply = self._answer(app, kind, message, settings, arrived, claims)
            if key is not None:
                self.remember(app, settings, key, reply)
            if kind.type == _END_OF_CALL and call_id and not replay:
                self.call_ended(app, settings, call_id)
            return reply
        finally:
            if state is not None:
                _call_state.reset(state)
            _message.reset(token)

    def _receivers_were_slow(self, message_type: str, budget: float, took: float) -> None:
        """Say (once per type) that the receivers, which run before the answer, used up a
        budget: the answer is the fallback, and late."""
        if message_type in self._slow_receivers:
            return
        self._slow_receivers.add(message_type)
        logger.warning(
            "The receivers of a Vapi %s message ran %.2f s, past its %g s budget: it was "
            "answered what a timeout answers, and late. Receivers run before the answer: "
            "give a slow one background=True.",
            quoted(message_type),
            took,
            budget,
        )

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
        trace = observe.current_trace()
        if trace is not None:
            trace.fail(handler_name(handler), exc)
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

    def _notify(
        self,
        app: Flask,
        name: str,
        message: Message,
        raw: dict[str, Any],
        body: bytes | None,
        settings: Settings,
    ) -> None:
        """Call the ``@vapi.on`` receivers of ``name`` and of ``"*"``; failures are isolated.
        Background receivers are handed to the runner before the answer leaves."""
        trace = observe.current_trace()
        for receiver in _of(self.receivers, name):
            started, error = time.monotonic(), None
            try:
                sync_callable(app, receiver)(message)
            except Exception as exc:
                error = exc
                self.failed(app, message, exc, receiver)
            if trace is not None:
                trace.receivers.append(
                    observe.ReceiverRun(
                        handler_name(receiver),
                        started,
                        time.monotonic(),
                        None if error is None else f"{type(error).__name__}: {short(error)}",
                    )
                )
        if self.background:
            later = _of(self.background, name)
            if later:
                runner = app.extensions["vapi_background"][settings.prefix]
                key = settings.prefix + message_key(body if body is not None else jsonio.dumps(raw))
                for record in later:
                    runner.submit(app, message, record, key=key, raw=raw)

    # -- answers ------------------------------------------------------------------

    def _answer(
        self,
        app: Flask,
        kind: MessageKind,
        message: Message,
        settings: Settings,
        arrived: float,
        claims: dict[str, bool] | None = None,
    ) -> Reply:
        if kind.tools:
            if isinstance(message, ToolCalls):
                results = self.run_tools(app, message, settings, arrived, claims)
                return Reply(jsonio.dumps({"results": results}))
            if isinstance(message, FunctionCall):
                return Reply(jsonio.dumps(self.function_call(app, message, settings, arrived)))
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
            value = self._respond(app, message, responder, settings, arrived)
            if answer.schema is None and _is_stream(value):
                return Reply(self._stream(app, message, responder, value), PCM)
            problems = check_answer(answer, value)
            if problems:
                raise errors.InvalidResponse(kind.type, problems)
            return _encode(value)
        except Exception as exc:
            self.failed(app, message, exc, responder)
            return _encode(fallback)

    def _respond(
        self,
        app: Flask,
        message: Message,
        responder: Callable[..., Any],
        settings: Settings,
        arrived: float,
    ) -> Any:
        """The responder's answer within the type's budget, or :class:`DeadlineExceeded`."""
        handler = sync_callable(app, responder)
        budget = settings.budgets.get(message.type)
        if budget is None:
            return handler(message)

        def late(value: Any, error: Exception | None) -> None:
            if error is not None:
                self.failed(app, message, error, responder)
            extra = {"handler": responder, "value": value, "exception": error}
            self.send(app, signals.late_result, message, tool_call=None, **extra)

        job = Job(lambda: handler(message), late)
        if not settings.pool.start(app, job, pin=True):
            raise errors.PoolExhausted(message.type, budget)
        if not job.wait(arrived + budget):
            raise errors.DeadlineExceeded(message.type, budget)
        return job.result()

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


def _of(table: dict[str, list[T]], name: str) -> list[T]:
    """The receivers in ``table`` of the signal ``name`` and of ``"*"``."""
    if not table:
        return []
    chosen = table.get(name, [])
    return chosen + table.get(ALL, []) if name != ALL else chosen


def _suggestion(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _is_stream(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(
        value, (bytes, bytearray, memoryview, str, dict)
    )


def _encode(value: Any) -> Reply:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Reply(bytes(value), PCM)
    return Reply(jsonio.dumps(value))
