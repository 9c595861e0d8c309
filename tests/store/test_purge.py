"""Expired entries are purged as writes go on, a bounded batch at a time."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

import pytest

from flask_vapi.store import memory, sqlite
from flask_vapi.store.memory import MemoryStore
from flask_vapi.store.sqlite import SQLiteStore


def rows(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        count: int = conn.execute("SELECT count(*) FROM flask_vapi_store").fetchone()[0]
    return count


def expire_all(store: SQLiteStore | MemoryStore, count: int) -> None:
    """``count`` writes of keys that have all expired when this returns (never read: the
    last one, written last with the same TTL, is the one polled)."""
    for i in range(count):
        store.set(f"old:{i}", b"v", 0.05)
    deadline = time.monotonic() + 10
    while store.get(f"old:{count - 1}") is not None:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_sqlite_purges_at_most_the_limit_every_so_many_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "PURGE_EVERY", 10)
    monkeypatch.setattr(sqlite, "PURGE_LIMIT", 3)
    path = tmp_path / "store.sqlite3"
    store = SQLiteStore(str(path))
    expire_all(store, 8)  # 8 writes
    assert rows(path) == 8  # expired rows are ignored on read, not deleted by it
    store.set("live:1", b"v", None)  # 9 writes: no purge yet
    assert rows(path) == 9
    store.add("live:2", b"v", 600)  # 10 writes: a purge of 3
    assert rows(path) == 10 - 3
    for i in range(10):
        store.update(f"live:u{i}", lambda old: b"v", None)  # 20 writes: 3 more
    assert rows(path) == 20 - 6
    assert store.get("live:1") == store.get("live:2") == b"v"
    store.close()


def test_memory_purges_expired_entries_every_so_many_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "PURGE_EVERY", 10)
    store = MemoryStore()
    expire_all(store, 9)
    assert len(store._data or {}) == 8  # the polled key was dropped when read expired
    store.set("live", b"v", None)  # the 10th write purges the expired ones
    assert store._data is not None and set(store._data) == {"live"}
