"""What happened while one webhook was handled: the ``Trace`` dispatch fills in for observers.

The event log and OpenTelemetry read the same trace, handed to them when the answer is
ready.  A trace exists only when an observer is on: with none, the request path pays one
context-variable lookup at each point below, and nothing else.
"""

from __future__ import annotations

import time
import traceback
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask

from .logs import redact, short

if TYPE_CHECKING:
    from .runner import Job
    from .tools import Tool


@dataclass(eq=False)
class ToolRun:
    """One tool call of the message: what it was asked, what it answered, how long it took."""

    #: The tool call id (``None`` for a legacy ``function-call``).
    id: str | None
    name: str
    arguments: Any
    #: ``time.monotonic()`` when it was started, and when its answer was known.
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    #: Its budget in seconds, if it had one.
    budget: float | None = None
    #: The ``result``/``error`` part of its ``results[]`` entry.
    entry: dict[str, Any] = field(default_factory=dict)
    #: ``ok``, ``error``, ``timeout``, ``duplicate``, ``background``, ``invalid``,
    #: ``unknown`` or ``busy``.
    outcome: str = "ok"

    def ran(self, job: Job) -> None:
        """It ran on the pool: when it ended, or that it ran out of time."""
        if job.abandoned:
            self.outcome = "timeout"
        else:
            self.ended = job.ended

    def settle(
        self,
        entry: dict[str, Any],
        tool: Tool | None,
        duplicate: bool = False,
        invalid: bool = False,
    ) -> None:
        """Fill in the outcome from the answered ``results[]`` ``entry`` of the call."""
        self.entry = {key: entry[key] for key in ("result", "error") if key in entry}
        if tool is not None and tool.timeout is not None:
            self.budget = tool.timeout if self.budget is None else min(self.budget, tool.timeout)
        if duplicate:
            self.outcome = "duplicate"
        elif invalid:
            self.outcome = "invalid"
        elif tool is None:
            self.outcome = "unknown"
        elif tool.background:
            self.outcome = "background"
        elif self.outcome == "timeout":
            return
        elif "error" in entry:
            self.outcome = "error"
        if self.ended is None:
            self.ended = time.monotonic()


@dataclass(eq=False)
class ReceiverRun:
    """One ``@vapi.on`` receiver called with the message."""

    name: str
    started: float
    ended: float
    error: str | None = None


@dataclass(eq=False)
class Failure:
    """A handler's or receiver's failure (the exception as text: it outlives the request)."""

    handler: str
    exception: str
    message: str
    traceback: str


@dataclass(eq=False)
class Trace:
    """One webhook request, from its arrival to its answer."""

    #: ``time.monotonic()`` and ``time.time()`` when the request arrived.
    arrived: float
    at: float
    #: The parsed body and its bytes (``None`` until parsed, and for unauthenticated
    #: requests).
    payload: Any = None
    body: bytes | None = None
    message_type: str | None = None
    call_id: str | None = None
    #: The type's budget in seconds, if it has one.
    budget: float | None = None
    status: int = 200
    #: ``(code, message)`` of a rejected request.
    rejected: tuple[str, str] | None = None
    #: The answer's bytes (``None`` for a streamed answer) and content type.
    answer: bytes | None = None
    content_type: str = "application/json"
    #: ``time.monotonic()`` when the answer was ready.
    answered: float | None = None
    tools: list[ToolRun] = field(default_factory=list)
    receivers: list[ReceiverRun] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    #: Whether a budget ran out (some answer was a fallback).
    deadline: bool = False
    #: Whether this was a redelivery answered with the first answer.
    duplicate: bool = False
    #: Whether this is a replay of a recorded message (not recorded, nothing delivered).
    replay: bool = False
    #: Set when the answer left: what happens later (a late failure) is not this request's.
    done: bool = False

    def fail(self, handler: str, exc: BaseException) -> None:
        """Note a failure (a :class:`~flask_vapi.errors.DeadlineExceeded` is a deadline hit)."""
        from .errors import DeadlineExceeded

        if self.done:
            return
        if isinstance(exc, DeadlineExceeded):
            self.deadline = True
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.failures.append(Failure(handler, type(exc).__name__, short(exc), redact(text)))


class Observer(Protocol):
    """Something that is shown each finished trace (the event log, OpenTelemetry)."""

    def finish(self, app: Flask, trace: Trace) -> None:
        """Take the finished ``trace``; called on the request's thread, must not raise."""


class SwitchedObserver(Observer, Protocol):
    """An observer that is on or off by the state of the process (a tracer provider)."""

    def active(self) -> bool:
        """Whether it wants traces now (called per request: must be cheap)."""


_trace: ContextVar[Trace | None] = ContextVar("flask_vapi.trace", default=None)


def current_trace() -> Trace | None:
    """The trace of the request being handled, if an observer is on."""
    return _trace.get()


def replaying() -> bool:
    """Whether the message being handled is a replay (nothing is posted into the call)."""
    trace = _trace.get()
    return trace is not None and trace.replay


def observing(trace: Trace) -> Token[Trace | None]:
    """Make ``trace`` current (in this context); give the token to :func:`done`."""
    return _trace.set(trace)


def done(token: Token[Trace | None]) -> None:
    """The request of the current trace was answered: the trace is no longer current."""
    _trace.reset(token)


@dataclass(frozen=True)
class Observers:
    """The observers of one blueprint on one app."""

    event_log: Observer | None = None
    #: ``VAPI_EVENT_LOG`` unset: the event log records while ``app.debug`` only.
    event_log_when_debugging: bool = False
    others: tuple[SwitchedObserver, ...] = ()

    def active(self, app: Flask) -> tuple[Observer, ...]:
        """The observers that see this app's requests now."""
        found: tuple[Observer, ...] = ()
        if self.event_log is not None and (app.debug or not self.event_log_when_debugging):
            found = (self.event_log,)
        for observer in self.others:
            if observer.active():
                found += (observer,)
        return found
