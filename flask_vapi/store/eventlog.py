"""The event log: every webhook an endpoint handled, redacted, in the store; read by the inspector.

Recording is off the request path: :meth:`EventLog.finish` puts the finished trace on a
queue, and one writer thread per process turns traces into events and writes them.
Nothing the log does can fail a webhook: a store failure is logged and the events of
that batch are dropped.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import threading
import uuid
import weakref
from collections.abc import Iterable
from typing import Any, NamedTuple

from flask import Flask

from .. import jsonio
from ..logs import logger, redact_body, redact_json, short
from ..observe import Trace
from . import Store, StoreError

#: Events recorded but not written yet, at most; past it, new ones are dropped (and logged).
QUEUE_LIMIT = 10_000
#: Traces written in one batch, at most.
BATCH = 256
#: Seconds the writer lets traces gather before it writes them, once it is woken: one
#: wake-up and one append per call per batch, not per webhook (an append of 64 events
#: costs about what 8 appends of one do).  The inspector sees a webhook this much later.
GATHER_SECONDS = 0.05
#: The call id of messages that belong to no call.
NO_CALL = "-"
_END_OF_CALL = "end-of-call-report"

_LOGS: weakref.WeakSet[EventLog] = weakref.WeakSet()


class EventLog:
    """The recorded webhooks of one endpoint, in its store.

    Keys (under ``namespace``, the endpoint's config prefix): ``log:calls``, the list of
    call ids in order of their first event; ``log:events:<call id>``, the call's events;
    ``log:call:<call id>``, its summary.  Each lives ``max_age`` seconds after its last
    write; a call keeps its last ``max_events`` events, and :meth:`calls` lists the last
    ``max_calls`` calls.
    """

    def __init__(
        self,
        store: Store,
        *,
        namespace: str,
        max_age: float,
        max_events: int,
        max_calls: int = 500,
    ) -> None:
        self.store = store
        self.namespace = namespace
        self.max_age = max_age
        self.max_events = max_events
        self.max_calls = max_calls
        self._queue: queue.Queue[_Event | _Marker] = queue.Queue()
        self._hurry = threading.Event()  # set by flush(): write what has gathered now
        self._writer: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._dropped = 0
        _LOGS.add(self)

    # -- recording ----------------------------------------------------------------

    def finish(self, app: Flask, trace: Trace) -> None:
        """Record ``trace`` (the :class:`~flask_vapi.observe.Observer` hook); never raises."""
        self.record(trace)

    def record(self, trace: Trace) -> None:
        """Encode ``trace`` (redacted) and queue it for the writer thread; a replay is not
        recorded.

        The encoding is done here, by the request's own thread, once its answer is made
        (it adds ~0.1-0.2 ms to the answer): done by the writer, its Python work took turns
        with the requests' for the GIL, and to let a waiting handler in it had to give the
        GIL up after each event (a ``sleep(0)``, ~50 µs here).  The writer only writes, a
        batch at a time.
        """
        if trace.replay:
            return
        if self._queue.qsize() >= QUEUE_LIMIT:
            self._dropped += 1
            if self._dropped in (1, 100, 10_000) or self._dropped % 100_000 == 0:
                logger.warning(
                    "The flask-vapi event log is behind: %d events dropped so far.", self._dropped
                )
            return
        try:
            event = _Event(trace.call_id or NO_CALL, encode_event(trace), _facts(trace))
        except Exception as exc:  # a payload no one foresaw: lose the event, not the log
            logger.warning("The flask-vapi event log could not record a webhook: %s", exc)
            return
        if self._writer is None or self._pid != os.getpid():
            self._start_writer()
        self._queue.put(event)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait up to ``timeout`` seconds until every recorded trace is written."""
        done = threading.Event()
        self._queue.put(_Marker(done))
        self._hurry.set()
        if self._writer is None or self._pid != os.getpid():
            self._start_writer()
        return done.wait(timeout)

    def _start_writer(self) -> None:
        with self._lock:
            if self._writer is not None and self._pid == os.getpid():
                return
            if self._pid != os.getpid():  # a forked child: the parent's queue is not ours
                self._queue, self._hurry = queue.Queue(), threading.Event()
            self._pid = os.getpid()
            self._writer = threading.Thread(
                target=self._write_forever, name="flask-vapi-event-log", daemon=True
            )
            self._writer.start()

    def _write_forever(self) -> None:
        while True:
            batch: list[_Event | _Marker] = [self._queue.get()]  # asleep while idle
            if not isinstance(batch[0], _Marker) and self._queue.qsize() < BATCH:
                self._hurry.wait(GATHER_SECONDS)  # let the webhooks of a burst gather
            self._hurry.clear()
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            markers = [item for item in batch if isinstance(item, _Marker)]
            events = [item for item in batch if isinstance(item, _Event)]
            if events:
                self._write(events)
            for marker in markers:
                marker.done.set()

    def _write(self, batch: list[_Event]) -> None:
        by_call: dict[str, list[tuple[bytes, dict[str, Any]]]] = {}
        for event in batch:
            by_call.setdefault(event.call_id, []).append((event.data, event.facts))
        for call_id, events in by_call.items():
            try:
                self._write_call(call_id, events)
            except (StoreError, ValueError, TypeError) as exc:
                logger.warning(
                    "The flask-vapi event log could not write %d event(s) of call %s: %s",
                    len(events),
                    call_id,
                    short(exc),
                )

    def _write_call(self, call_id: str, events: list[tuple[bytes, dict[str, Any]]]) -> None:
        store, ttl = self.store, self.max_age
        store.append(self._key("events", call_id), [e for e, _ in events], ttl, self.max_events)

        def merge(current: bytes | None) -> bytes:
            summary = json.loads(current) if current is not None else new_summary(call_id)
            for _, facts in events:
                add_to_summary(summary, facts)
            return _dump(summary)

        summary = json.loads(store.update(self._key("call", call_id), merge, ttl) or b"{}")
        if summary.get("events") == len(events):  # this batch began the call
            store.append(self._key("calls"), [call_id.encode()], ttl, self.max_calls)
        else:
            store.expire(self._key("calls"), ttl)

    def _key(self, kind: str, call_id: str | None = None) -> str:
        key = f"{self.namespace}log:{kind}"
        return key if call_id is None else f"{key}:{call_id}"

    # -- reading ------------------------------------------------------------------

    def calls(self, limit: int = 100) -> list[dict[str, Any]]:
        """The summaries of the recorded calls, the newest first (``limit`` at most)."""
        ids = dict.fromkeys(raw.decode() for raw in reversed(self.store.items(self._key("calls"))))
        found = []
        for call_id in ids:
            raw = self.store.get(self._key("call", call_id))
            if raw is not None:
                found.append(json.loads(raw))
            if len(found) >= limit:
                break
        found.sort(key=lambda summary: summary["first_at"], reverse=True)
        return found

    def call(self, call_id: str) -> dict[str, Any] | None:
        """The summary of call ``call_id``, if it was recorded."""
        raw = self.store.get(self._key("call", call_id))
        return None if raw is None else dict(json.loads(raw))

    def events(self, call_id: str) -> list[dict[str, Any]]:
        """The recorded events of call ``call_id``, in the order they were written."""
        return [json.loads(raw) for raw in self.store.items(self._key("events", call_id))]

    def event(self, call_id: str, event_id: str) -> dict[str, Any] | None:
        """One recorded event of call ``call_id``, by its ``id``."""
        for event in self.events(call_id):
            if event["id"] == event_id:
                return event
        return None


class _Event(NamedTuple):
    """A recorded webhook, encoded and redacted, waiting for the writer."""

    call_id: str
    data: bytes
    facts: dict[str, Any]


class _Marker:
    """Put on the queue by :meth:`EventLog.flush`: set once everything before it is written."""

    def __init__(self, done: threading.Event) -> None:
        self.done = done


def _dump(value: Any) -> bytes:
    return jsonio.dumps(value)


def encode_event(trace: Trace) -> bytes:
    """The recorded event of a finished trace, as JSON: :func:`to_event`, but with the raw
    body redacted as text when it can be (the parse-and-walk way costs ~10x more)."""
    fast = redact_body(trace.body) if trace.body is not None else None
    if fast is None:
        return _dump(to_event(trace))
    event = to_event(trace, with_body=False)
    return _dump(event)[:-1] + b',"body":' + fast + b"}"


def to_event(trace: Trace, with_body: bool = True) -> dict[str, Any]:
    """The event recorded for a finished trace: JSON, redacted."""
    answered = trace.answered if trace.answered is not None else trace.arrived
    event = {
        "id": uuid.uuid4().hex,
        "at": trace.at,
        "type": trace.message_type,
        "call_id": trace.call_id,
        "status": trace.status,
        "ms": round((answered - trace.arrived) * 1000, 3),
        "budget_ms": _ms(trace.budget),
        "body": redact_json(trace.payload) if with_body and trace.payload is not None else None,
        "answer": redact_json(answer_of(trace)),
        "rejected": (
            {"code": trace.rejected[0], "message": trace.rejected[1]} if trace.rejected else None
        ),
        "tools": [
            {
                "id": run.id,
                "name": run.name,
                "arguments": redact_json(run.arguments),
                **redact_json(run.entry),
                "outcome": run.outcome,
                "ms": None if run.ended is None else round((run.ended - run.started) * 1000, 3),
                "budget_ms": _ms(run.budget),
            }
            for run in trace.tools
        ],
        "receivers": [
            {
                "name": run.name,
                "ms": round((run.ended - run.started) * 1000, 3),
                "error": run.error,
            }
            for run in trace.receivers
        ],
        "errors": [
            {
                "handler": failure.handler,
                "exception": failure.exception,
                "message": redact_json(failure.message),
                "traceback": failure.traceback,
            }
            for failure in trace.failures
        ],
        "deadline": trace.deadline,
        "duplicate": trace.duplicate,
    }
    if not with_body:
        del event["body"]
    return event


def answer_of(trace: Trace) -> Any:
    """The answer of a trace as recorded: decoded JSON, or a note for audio and streams."""
    if trace.answer is None:
        return None if trace.answered is None else "<streamed audio>"
    if trace.content_type.startswith("application/json"):
        try:
            return jsonio.loads(trace.answer)
        except jsonio.DecodeError:
            return f"<{len(trace.answer)} bytes that are not JSON>"
    return f"<{len(trace.answer)} bytes of audio>"


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def new_summary(call_id: str) -> dict[str, Any]:
    """The summary of a call without events yet."""
    return {
        "call_id": call_id,
        "first_at": None,
        "last_at": None,
        "events": 0,
        "tool_calls": 0,
        "errors": 0,
        "deadline_hits": 0,
        "duplicates": 0,
        "ended_reason": None,
        "duration_s": None,
        "caller": None,
        "live": True,
    }


def _facts(trace: Trace) -> dict[str, Any]:
    """What a call's summary counts of one trace."""
    message = _message_of(trace.payload)
    facts: dict[str, Any] = {
        "at": trace.at,
        "tools": len(trace.tools),
        "errors": len(trace.failures) + (1 if trace.status >= 400 else 0),
        "deadline": trace.deadline,
        "duplicate": trace.duplicate,
        "caller": _caller(message),
    }
    if trace.message_type == _END_OF_CALL and trace.status < 400:
        duration = message.get("durationSeconds")
        facts["ended"] = {
            "reason": _text(message.get("endedReason")),
            "duration": float(duration)
            if isinstance(duration, (int, float)) and not isinstance(duration, bool)
            else None,
        }
    return facts


def add_to_summary(summary: dict[str, Any], facts: dict[str, Any]) -> None:
    """Count one event's ``facts`` (see :func:`to_event`) into its call's ``summary``."""
    at = facts["at"]
    summary["first_at"] = at if summary["first_at"] is None else min(summary["first_at"], at)
    summary["last_at"] = at if summary["last_at"] is None else max(summary["last_at"], at)
    summary["events"] += 1
    summary["tool_calls"] += facts["tools"]
    summary["errors"] += facts["errors"]
    summary["deadline_hits"] += 1 if facts["deadline"] else 0
    summary["duplicates"] += 1 if facts["duplicate"] else 0
    if summary["caller"] is None:
        summary["caller"] = facts["caller"]
    ended = facts.get("ended")
    if ended is not None:
        summary["live"] = False
        summary["ended_reason"] = ended["reason"]
        if ended["duration"] is not None:
            summary["duration_s"] = ended["duration"]


def _message_of(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        return {}
    message = body.get("message", body)
    return message if isinstance(message, dict) else {}


def _caller(message: dict[str, Any]) -> str | None:
    for holder in (_get(message, "call", "customer"), _get(message, "customer")):
        if isinstance(holder, dict):
            number = _text(holder.get("number"))
            if number is not None:
                return number
    return None


def _get(value: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _drain(logs: Iterable[EventLog]) -> None:
    """At exit, write what is queued (a hard kill loses it)."""
    for log in list(logs):
        if log._writer is not None and log._pid == os.getpid() and log._writer.is_alive():
            log.flush(timeout=2.0)


atexit.register(lambda: _drain(_LOGS))
