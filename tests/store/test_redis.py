"""Redis-specific behaviour: update retries a conflicting write, a bounded number of times."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from flask_vapi.store import StoreError, open_store
from flask_vapi.store import redis as redis_store
from flask_vapi.store.redis import RedisStore


@pytest.fixture
def store(redis_url: str) -> Iterator[RedisStore]:
    opened = open_store(f"{redis_url}?key_prefix=test-{uuid.uuid4().hex}:")
    assert isinstance(opened, RedisStore)
    try:
        yield opened
    finally:
        opened.close()


def test_update_calls_fn_again_after_a_conflicting_write(store: RedisStore, redis_url: str) -> None:
    other = redis.Redis.from_url(redis_url)  # another worker, writing between read and write
    seen: list[bytes | None] = []

    def fn(old: bytes | None) -> bytes:
        seen.append(old)
        if len(seen) == 1:
            other.set(store.key_prefix + "k", b"10")
        return str(int(old or b"0") + 1).encode()

    try:
        assert store.update("k", fn, 60) == b"11"
    finally:
        other.close()
    assert seen == [None, b"10"]
    assert store.get("k") == b"11"


def test_update_gives_up_after_its_attempts(
    store: RedisStore, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_store, "UPDATE_ATTEMPTS", 5)
    other = redis.Redis.from_url(redis_url)
    calls: list[bytes | None] = []

    def fn(old: bytes | None) -> bytes:
        calls.append(old)
        other.incr(store.key_prefix + "k")  # someone always writes first
        return b"mine"

    try:
        with pytest.raises(StoreError, match="5 conflicting writes"):
            store.update("k", fn, 60)
    finally:
        other.close()
    assert len(calls) == 5
    assert store.get("k") == b"5"
