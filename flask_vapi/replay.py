"""Replaying recorded messages through the app: the new answer beside the recorded one."""

from __future__ import annotations

import difflib
import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from flask import Flask

from . import errors, jsonio, observe
from .logs import redact_json
from .store.eventlog import answer_of

if TYPE_CHECKING:
    from .blueprint import VapiBlueprint


class Replayed(NamedTuple):
    """A recorded event sent through the app again."""

    #: The recorded event.
    event: dict[str, Any]
    #: The status and answer of the replay (redacted as the recording is).
    status: int
    answer: Any
    #: Whether status and answer are those recorded.
    same: bool

    def difference(self) -> str:
        """A unified diff of the recorded answer (``-``) and the new one (``+``)."""
        recorded = _lines(self.event.get("status"), self.event.get("answer"))
        new = _lines(self.status, self.answer)
        return "".join(difflib.unified_diff(recorded, new, "recorded", "replayed"))


def _lines(status: Any, answer: Any) -> list[str]:
    text = json.dumps({"status": status, "answer": answer}, indent=2, ensure_ascii=False)
    return [line + "\n" for line in text.splitlines()]


def read_events(lines: Iterable[str]) -> list[dict[str, Any]]:
    """The events of a ``flask vapi export`` file (JSON Lines); ``ValueError`` names the
    first line that is not a recorded event."""
    events = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"line {number} is not JSON: {exc}") from None
        if not isinstance(event, dict) or not {"id", "type", "status", "body"} <= set(event):
            raise ValueError(f"line {number} is not a recorded event (id, type, status, body)")
        events.append(event)
    return events


def replay_event(app: Flask, blueprint: VapiBlueprint, event: dict[str, Any]) -> Replayed:
    """Send a recorded event's body through ``blueprint``'s dispatcher on ``app``.

    In-process (no HTTP, no authentication: the recording was authenticated), inside a
    request context for the webhook URL.  A replay is not a redelivery: it is not
    deduplicated and does not end its call; nothing is posted into the call (its control
    URL was redacted anyway), and it is not recorded in the event log.  Handlers do run:
    a tool that books, books again.  ``ValueError`` when the event has no body to replay
    (an unauthenticated or unparseable request).
    """
    body = event.get("body")
    if body is None:
        raise ValueError("This event has no recorded body to replay.")
    settings = blueprint.settings_for(app)
    trace = observe.Trace(time.monotonic(), time.time(), replay=True)
    path = (blueprint.url_prefix or "").rstrip("/") + "/webhook"
    with app.test_request_context(path, method="POST", json=body):
        token = observe.observing(trace)
        try:
            reply = blueprint.dispatcher.receive(app, body, settings, trace.arrived, replay=True)
            status = 200
            trace.answer = reply.body if isinstance(reply.body, bytes) else None
            trace.content_type = reply.content_type
            trace.answered = time.monotonic()
            answer = redact_json(answer_of(trace))
        except errors.Rejection as rejection:
            status, answer = rejection.status, jsonio.loads(jsonio.dumps(rejection.body()))
        finally:
            trace.done = True
            observe.done(token)
    same = status == event.get("status") and answer == event.get("answer")
    return Replayed(event, status, answer, same)


def replay_events(
    app: Flask, blueprint: VapiBlueprint, events: Iterable[dict[str, Any]]
) -> list[Replayed]:
    """Each event with a body, replayed in order (see :func:`replay_event`)."""
    return [
        replay_event(app, blueprint, event) for event in events if event.get("body") is not None
    ]
