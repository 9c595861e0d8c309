"""Expired entries (values, lists) are purged as writes go on, a bounded batch at a time."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

import pytest

from flask_vapi.store import memory, sqlite
from flask_vapi.store.memory import MemoryStore
from flask_vapi.store.sqlite import SQLiteStore


def rows(path: Path, table: str = "flask_vapi_store") -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        count: int = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
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


def test_sqlite_purges_expired_lists_a_bounded_number_of_rows_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "PURGE_EVERY", 10)
    monkeypatch.setattr(sqlite, "PURGE_LIMIT", 3)
    path = tmp_path / "store.sqlite3"
    store = SQLiteStore(str(path))
    store.append("old:1", [b"a", b"b", b"c", b"d"], 0.05, 10)
    store.append("old:2", [b"a", b"b", b"c", b"d"], 0.05, 10)
    store.append("live", [b"a", b"b", b"c", b"d"], None, 10)  # 3 writes
    deadline = time.monotonic() + 10
    while store.items("old:2"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert (rows(path, "flask_vapi_list_items"), rows(path, "flask_vapi_list_keys")) == (12, 3)
    left = []
    for i in range(3):
        for j in range(10 if i else 7):  # a purge at the 10th, 20th and 30th write
            store.set(f"live:{i}:{j}", b"v", None)
        left.append((rows(path, "flask_vapi_list_items"), rows(path, "flask_vapi_list_keys")))
    # 3 expired items at a time; an emptied header with them (a list read as absent meanwhile)
    assert [items for items, _ in left] == [12 - 3, 12 - 6, 4]
    assert left[1][1] in (2, 3) and left[2][1] == 1
    assert store.items("live") == [b"a", b"b", b"c", b"d"]
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
