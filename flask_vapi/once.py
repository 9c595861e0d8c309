"""Exactly-once dispatch: a redelivered message is answered like the first and signals nothing."""

from __future__ import annotations

import time
from typing import Any, Callable

from flask import Flask

from . import jsonio, observe, signals
from .catalogue import ANSWERED, MessageKind
from .logs import logger, quoted, short
from .models.messages import Message
from .reply import EMPTY_OBJECT, Reply
from .settings import Settings
from .store import StoreError
from .store.dedup import Deduplicator, message_key

#: Seconds a claim outlives its budget: a redelivery waits for the first answer that long,
#: and takes the message over if the claim lapses (its worker died).
CLAIM_MARGIN = 5.0
_NOT_DEDUPLICATED = frozenset({"tool-calls", "voice-request"})  # per call; a stream


def first_may_run(settings: Settings, kind: str) -> float:
    """Seconds the first delivery of a ``kind`` message may still be running when a
    redelivery comes: its budget or, without one, as long as Vapi waits for an answer (a
    receiver of an informational message: as long as Vapi waits for any)."""
    budget = settings.budgets.get(kind)
    if budget:
        return budget
    answered = ANSWERED.get(kind)
    return answered.limit if answered is not None and answered.limit else settings.server_timeout


class OnceMixin:
    """The deduplicating half of :class:`~flask_vapi.dispatch.Dispatcher`."""

    send: Callable[..., None]

    def store_failed(self, app: Flask, exc: StoreError, doing: str) -> None:
        """Log and signal a store failure; the request goes on without the store."""
        logger.warning(
            "The flask-vapi store failed while %s: %s: %s; handled without it.",
            doing,
            type(exc).__name__,
            short(exc),
        )
        self.send(app, signals.store_error, None, exception=exc, operation=doing)

    def duplicate(self, app: Flask, message: Message, what: str, **extra: Any) -> None:
        """Log (INFO) and signal a redelivery."""
        logger.info(
            "A redelivered Vapi %s %s was answered like the first.", quoted(message.type), what
        )
        trace = observe.current_trace()
        if trace is not None:
            trace.duplicate = True
        self.send(app, signals.duplicate_message, message, **extra)

    def first_delivery(
        self,
        app: Flask,
        settings: Settings,
        kind: MessageKind,
        message: Message,
        body: bytes | None,
        deadline: float,
    ) -> tuple[str | None, Reply | None]:
        """``(key, None)`` for a first delivery (``key``: where to remember the answer, if it
        must be), or ``(None, the first answer)`` for a redelivery of the same bytes."""
        if not settings.deduplicate or body is None or kind.type in _NOT_DEDUPLICATED:
            return None, None
        once = Deduplicator(settings.store, settings.deduplicate_ttl, settings.prefix)
        key = message_key(body)
        # Claimed until answered (an informational message: until its receivers, background
        # ones included, were handed their message), then the answer is remembered.  A
        # worker killed in between leaves a claim that lapses, and a redelivery takes over.
        running = first_may_run(settings, kind.type)
        if kind.informational or not settings.budgets.get(kind.type):
            deadline = time.monotonic() + running + 2 * CLAIM_MARGIN  # past a lapse
        try:
            while True:
                if once.claim(key, running + CLAIM_MARGIN):
                    return key, None
                stored = once.wait(key, deadline)
                if stored is not None or time.monotonic() >= deadline:
                    break
        except StoreError as exc:
            self.store_failed(app, exc, f"checking a {message.type} message for redelivery")
            return None, None
        self.duplicate(app, message, "message")
        if stored is None:  # the first is still running: what a timeout would answer
            fallback = EMPTY_OBJECT if kind.informational else settings.fallbacks[kind.type]
            return None, Reply(fallback if isinstance(fallback, bytes) else jsonio.dumps(fallback))
        content_type, _, reply = stored.partition(b"\n")
        return None, Reply(reply, content_type.decode())

    def remember(self, app: Flask, settings: Settings, key: str, reply: Reply) -> None:
        """Keep ``reply`` for the redeliveries of the message claimed under ``key``."""
        if not isinstance(reply.body, bytes):
            return
        once = Deduplicator(settings.store, settings.deduplicate_ttl, settings.prefix)
        try:
            once.remember(key, reply.content_type.encode() + b"\n" + reply.body)
        except StoreError as exc:
            self.store_failed(app, exc, "remembering an answer")
