"""Exactly-once handling: claims on redelivered messages and tool calls, and their first answers."""

from __future__ import annotations

import hashlib
import time

from . import Store

_RUNNING = b"\x00"  # a claim whose answer is not known yet
_ANSWER = b"="  # prefix of a remembered answer


def message_key(body: bytes) -> str:
    """The key of a message: a digest of its raw body (an identical redelivery matches)."""
    return "msg:" + hashlib.sha256(body).hexdigest()


def tool_call_key(call_id: str | None, tool_call_id: str) -> str:
    """The key of a tool call: its call's id and its own (stable across redeliveries)."""
    return f"tool:{call_id or ''}:{tool_call_id}"


class Deduplicator:
    """Claims and answers in a store, remembered ``ttl`` seconds.

    :meth:`claim` is won by exactly one of any number of deliveries of one key (across
    workers and machines); the winner runs and :meth:`remember` s its answer; the others
    :meth:`wait` for it.
    """

    def __init__(self, store: Store, ttl: float, namespace: str = "") -> None:
        self.store = store
        self.ttl = ttl
        #: Put before every key: each endpoint (config prefix) deduplicates on its own.
        self.namespace = namespace

    def claim(self, key: str, running: float) -> bool:
        """Whether this delivery is the first; its claim lapses after ``running`` seconds
        unless answered (a worker killed mid-answer does not block its key for a day)."""
        return self.store.add(self.namespace + key, _RUNNING, running)

    def remember(self, key: str, answer: bytes) -> None:
        """Keep the first delivery's answer for the redeliveries."""
        self.store.set(self.namespace + key, _ANSWER + answer, self.ttl)

    def wait(self, key: str, deadline: float) -> bytes | None:
        """The first delivery's answer, once known, by ``deadline`` (``time.monotonic()``);
        ``None`` if it is not known by then or its claim lapsed."""
        pause = 0.002
        while True:
            value = self.store.get(self.namespace + key)
            if value is None:
                return None
            if value.startswith(_ANSWER):
                return value[len(_ANSWER) :]
            now = time.monotonic()
            if now >= deadline:
                return None
            time.sleep(min(pause, deadline - now))
            pause = min(pause * 2, 0.05)
