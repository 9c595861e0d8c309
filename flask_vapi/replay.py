"""Replaying recorded messages through the app: the new answer beside the recorded one."""

from __future__ import annotations

import time
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
