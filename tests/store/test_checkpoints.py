"""The SQLite store's checkpoints run on a thread of their own, not in the writes."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from flask_vapi.store import sqlite
from flask_vapi.store.sqlite import SQLiteStore

THREAD = "flask-vapi-sqlite-checkpoint"


def checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD]


def wait_for(predicate: object, timeout: float = 10.0) -> None:
    stop = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < stop, "timed out"
        time.sleep(0.01)


def test_a_writer_leaves_checkpoints_to_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = SQLiteStore(str(path))
    try:
        store.set("k", b"v", None)
        conn = store._conn
        assert conn is not None
        (pages,) = conn.execute("PRAGMA wal_autocheckpoint").fetchone()
        assert pages == sqlite.AUTOCHECKPOINT_PAGES == 4000  # SQLite's default: 1000
    finally:
        store.close()


def test_the_thread_copies_the_wal_into_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY", 8)
    path = tmp_path / "store.sqlite3"
    store = SQLiteStore(str(path))
    try:
        for i in range(7):
            store.set(f"k{i}", bytes(2000), None)
        assert not checkpoint_threads()  # made on the 8th write, not before
        size_before = path.stat().st_size
        store.set("k7", bytes(2000), None)
        # The rows reach the database file itself: 8 values of 2 kB need several pages.
        wait_for(lambda: path.stat().st_size > size_before + 4 * 4096)
        assert len(checkpoint_threads()) == 1
        # A plain reader of the file alone (no WAL) sees them.
        reader = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
        try:
            (count,) = reader.execute("SELECT count(*) FROM flask_vapi_store").fetchone()
        finally:
            reader.close()
        assert count == 8
    finally:
        store.close()
    assert not checkpoint_threads()  # close() ends the thread


def test_a_failing_checkpoint_fails_no_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY", 2)
    path = tmp_path / "store.sqlite3"
    store = SQLiteStore(str(path))
    blocker = sqlite3.connect(str(path), isolation_level=None)
    try:
        blocker.execute("BEGIN")
        blocker.execute("SELECT count(*) FROM flask_vapi_store").fetchone()  # holds a snapshot
        for i in range(10):
            store.set(f"k{i}", b"v", None)
        assert store.get("k9") == b"v"
    finally:
        blocker.close()
        store.close()
    assert not checkpoint_threads()


def test_a_store_dropped_without_close_ends_its_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY", 1)
    store = SQLiteStore(str(tmp_path / "store.sqlite3"))
    store.set("k", b"v", None)
    wait_for(lambda: len(checkpoint_threads()) == 1)
    del store
    wait_for(lambda: not checkpoint_threads())
