"""Redis-specific behaviour: update is a read and a compare-and-set, retried a bounded number
of times."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

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


def write_elsewhere(redis_url: str, name: str, value: bytes) -> None:
    """What another worker's write does to the key ``name``."""
    other = redis.Redis.from_url(redis_url)
    try:
        other.set(name, value)
    finally:
        other.close()


def _calls(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {name: int(stat["calls"]) for name, stat in stats.items()}


def _spent(redis_url: str, action: Callable[[], object]) -> dict[str, int]:
    """The commands the server ran during ``action`` (by name: a Celery worker of another
    test may poll this server meanwhile)."""
    admin = redis.Redis.from_url(redis_url)
    try:
        before = _calls(admin)
        action()
        after = _calls(admin)
    finally:
        admin.close()
    names = ("get", "set", "evalsha", "eval", "script", "watch", "multi", "exec", "del")
    spent = {f"cmdstat_{name}": after.get(f"cmdstat_{name}", 0) for name in names}
    for name in spent:
        spent[name] -= before.get(name, 0)
    return {name[len("cmdstat_") :]: count for name, count in spent.items() if count}


def test_an_update_is_one_round_trip_when_the_key_holds_what_it_wrote(
    store: RedisStore, redis_url: str
) -> None:
    store.update("loaded", lambda old: b"x", 60)  # the server has the script now
    # A key it did not write: a GET, then the script (which runs a GET and a SET itself).
    spent = _spent(redis_url, lambda: store.update("k", lambda old: b"1", 60))
    assert spent == {"get": 2, "evalsha": 1, "set": 1}
    # The key holds what this store wrote: the script alone.
    spent = _spent(redis_url, lambda: store.update("k", lambda old: (old or b"") + b"2", 60))
    assert spent == {"get": 1, "evalsha": 1, "set": 1}
    assert store.get("k") == b"12"


def test_a_stale_guess_costs_a_failed_compare_and_set_not_a_wrong_write(
    store: RedisStore, redis_url: str
) -> None:
    store.update("k", lambda old: b"mine", 60)
    write_elsewhere(redis_url, store.key_prefix + "k", b"theirs")  # another worker wrote since
    seen: list[bytes | None] = []

    def fn(old: bytes | None) -> bytes:
        seen.append(old)
        return (old or b"") + b"+1"

    assert store.update("k", fn, 60) == b"theirs+1"
    assert seen == [b"mine", b"theirs"]  # guessed, then told what the key holds
    assert store.get("k") == b"theirs+1"
    store.set("k", b"reset", 60)  # a plain write: the next update reads first
    assert store.update("k", fn, 60) == b"reset+1"
    assert seen[-1] == b"reset"


def test_update_retries_when_the_key_is_deleted_in_between(
    store: RedisStore, redis_url: str
) -> None:
    other = redis.Redis.from_url(redis_url)
    store.set("k", b"5", 60)
    seen: list[bytes | None] = []

    def fn(old: bytes | None) -> bytes:
        seen.append(old)
        if len(seen) == 1:
            other.delete(store.key_prefix + "k")
        return (old or b"") + b"!"

    try:
        assert store.update("k", fn, 60) == b"!"
    finally:
        other.close()
    assert seen == [b"5", None]


def test_update_works_after_the_server_forgot_its_scripts(
    store: RedisStore, redis_url: str
) -> None:
    store.update("k", lambda old: b"1", None)
    admin = redis.Redis.from_url(redis_url)
    try:
        admin.script_flush()  # as after a restart of the server
    finally:
        admin.close()
    assert store.update("k", lambda old: (old or b"") + b"2", None) == b"12"
    assert store.update("k", lambda old: None, None) is None
    assert store.get("k") is None


def test_update_keeps_the_ttl_it_was_given(store: RedisStore) -> None:
    store.update("k", lambda old: b"v", 60)
    assert 59_000 < store.client.pttl(store.key_prefix + "k") <= 60_000
    store.update("k", lambda old: b"w", None)
    assert store.client.pttl(store.key_prefix + "k") == -1  # no expiry


def test_a_function_that_refuses_a_stale_guess_is_given_the_value(
    store: RedisStore, redis_url: str
) -> None:
    store.update("k", lambda old: b"1", 60)
    write_elsewhere(redis_url, store.key_prefix + "k", b"2")
    seen: list[bytes | None] = []

    def only_after_two(old: bytes | None) -> bytes:  # a transaction's check, say
        seen.append(old)
        if old != b"2":
            raise ValueError("not what was read")
        return b"3"

    assert store.update("k", only_after_two, 60) == b"3"
    assert seen == [b"1", b"2"]
    with pytest.raises(ValueError, match="not what was read"):  # on the real value: raised
        store.update("k", only_after_two, 60)
    assert store.get("k") == b"3"
