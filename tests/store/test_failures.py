"""Back-end failures during use are StoreError, never the back end's own exception."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest
import redis

from flask_vapi.store import Store, StoreError, open_store
from flask_vapi.store.sqlite import SQLiteStore
from tests.servers import RedisServer, start_redis

OPERATIONS: dict[str, Callable[[Store], object]] = {
    "get": lambda store: store.get("k"),
    "set": lambda store: store.set("k", b"v", 60),
    "add": lambda store: store.add("other", b"v", None),
    "update": lambda store: store.update("k", lambda old: b"w", 60),
    "append": lambda store: store.append("list", [b"v"], 60, 10),
    "items": lambda store: store.items("list"),
    "expire": lambda store: store.expire("k", 60),
    "delete": lambda store: store.delete("k"),
}


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of this test's own, which the test may stop."""
    server = start_redis()
    try:
        yield server
    finally:
        server.stop()


def test_every_operation_fails_with_store_error_once_redis_is_gone(
    private_redis: RedisServer,
) -> None:
    store = open_store(private_redis.url)
    store.set("k", b"v", 60)  # the pool now holds a live connection
    private_redis.stop()
    for name, operation in OPERATIONS.items():
        with pytest.raises(StoreError) as raised:
            operation(store)
        assert isinstance(raised.value.__cause__, redis.RedisError), name
    store.close()


def test_a_hung_redis_times_out_into_store_error_and_the_store_recovers(
    private_redis: RedisServer,
) -> None:
    store = open_store(private_redis.url)
    store.set("k", b"v", 60)
    assert private_redis.process is not None
    pid = private_redis.process.pid
    outcomes: dict[str, BaseException | None] = {}

    def run_all() -> None:
        for name, operation in OPERATIONS.items():
            try:
                operation(store)
                outcomes[name] = None
            except BaseException as exc:
                outcomes[name] = exc

    os.kill(pid, signal.SIGSTOP)  # the server hangs: connections open, no reply
    try:
        runner = threading.Thread(target=run_all, daemon=True)
        runner.start()
        runner.join(timeout=60)  # a bound: without socket timeouts this would hang forever
        assert not runner.is_alive(), "an operation on a hung server did not time out"
    finally:
        os.kill(pid, signal.SIGCONT)
    assert all(isinstance(exc, StoreError) for exc in outcomes.values()), outcomes
    assert len(outcomes) == len(OPERATIONS)
    store.set("k", b"back", 60)
    assert store.get("k") == b"back"
    store.close()


def test_a_redis_error_reply_is_a_store_error(redis_url: str) -> None:
    store = open_store(f"{redis_url}?key_prefix=failures-wrongtype:")
    try:
        store.client.lpush("failures-wrongtype:k", b"a list, not a string")
        with pytest.raises(StoreError, match="WRONGTYPE"):
            store.get("k")
        with pytest.raises(StoreError, match="WRONGTYPE"):
            store.update("k", lambda old: b"v", None)
        store.client.set("failures-wrongtype:s", b"a string, not a list")
        with pytest.raises(StoreError, match="WRONGTYPE"):
            store.items("s")
        with pytest.raises(StoreError, match="WRONGTYPE"):
            store.append("s", [b"v"], None, 10)
    finally:
        store.client.delete("failures-wrongtype:s")
        store.client.delete("failures-wrongtype:k")
        store.close()


def test_sqlite_locked_past_its_busy_timeout_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = SQLiteStore(str(path), busy_timeout=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        for name in ("set", "add", "update", "append", "delete"):
            with pytest.raises(StoreError, match="locked") as raised:
                OPERATIONS[name](store)
            assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
        assert store.get("k") is None  # WAL: readers go on while a writer holds the lock
        assert store.items("list") == []
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.set("k", b"v", None)  # and the store recovers when the lock is released
    assert store.get("k") == b"v"
    store.close()


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_closed_store_raises_store_error(backend: str, tmp_path: Path) -> None:
    url = "memory://" if backend == "memory" else f"sqlite:///{tmp_path / 's.sqlite3'}"
    store = open_store(url)
    store.close()
    for operation in OPERATIONS.values():
        with pytest.raises(StoreError, match="closed"):
            operation(store)
