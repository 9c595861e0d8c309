"""The sqlite:/// store: one SQLite file in WAL mode, shared by the processes of one machine."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Sequence
from types import TracebackType
from typing import Callable

from flask_vapi.store import Store, StoreError, check_keep, check_ttl, check_value
from flask_vapi.store.checkpoints import Checkpoints

#: Expired rows are purged after every this many writes of a process ...
PURGE_EVERY = 256
#: ... at most this many at a time, so that a purge stays short (and keeps up: 2 per write).
PURGE_LIMIT = 512
#: After every this many writes of a process, its checkpoint thread copies the WAL into the
#: database file, off the request path (:mod:`flask_vapi.store.checkpoints`) ...
CHECKPOINT_EVERY = 64
#: ... and a writer does it itself once the WAL holds this many pages (4 KiB each), should
#: the thread fall behind (SQLite's own default is 1000).
AUTOCHECKPOINT_PAGES = 4000

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS flask_vapi_store"
    " (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, expires REAL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS flask_vapi_store_expires"
    " ON flask_vapi_store (expires) WHERE expires IS NOT NULL",
    # A list: its header (the live items are seq head .. tail - 1, the list's expiry) and
    # its items.  Deleting a header deletes its items, so that no item outlives its list.
    "CREATE TABLE IF NOT EXISTS flask_vapi_list_keys (key TEXT PRIMARY KEY NOT NULL,"
    " head INTEGER NOT NULL, tail INTEGER NOT NULL, expires REAL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS flask_vapi_list_keys_expires"
    " ON flask_vapi_list_keys (expires) WHERE expires IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS flask_vapi_list_items (key TEXT NOT NULL, seq INTEGER NOT NULL,"
    " value BLOB NOT NULL, PRIMARY KEY (key, seq)) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS flask_vapi_list_keys_delete AFTER DELETE ON flask_vapi_list_keys"
    " BEGIN DELETE FROM flask_vapi_list_items WHERE key = old.key; END",
)
_LIVE = "(expires IS NULL OR expires > ?)"
_GET = f"SELECT value FROM flask_vapi_store WHERE key = ? AND {_LIVE}"
_SET = "INSERT OR REPLACE INTO flask_vapi_store (key, value, expires) VALUES (?, ?, ?)"
_ADD = (
    "INSERT INTO flask_vapi_store (key, value, expires) VALUES (?, ?, ?)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires"
    " WHERE expires IS NOT NULL AND expires <= ?"
)
_EXPIRE = f"UPDATE flask_vapi_store SET expires = ? WHERE key = ? AND {_LIVE}"
_DELETE = "DELETE FROM flask_vapi_store WHERE key = ?"
_PURGE = (
    "DELETE FROM flask_vapi_store WHERE key IN"
    " (SELECT key FROM flask_vapi_store WHERE expires <= ? LIMIT ?)"
)
_LIST_HEAD = "SELECT head, tail, expires FROM flask_vapi_list_keys WHERE key = ?"
_LIST_CLEAR = "DELETE FROM flask_vapi_list_items WHERE key = ?"
_LIST_PUSH = "INSERT INTO flask_vapi_list_items (key, seq, value) VALUES (?, ?, ?)"
_LIST_TRIM = "DELETE FROM flask_vapi_list_items WHERE key = ? AND seq < ?"
_LIST_SET_HEAD = (
    "INSERT INTO flask_vapi_list_keys (key, head, tail, expires) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (key) DO UPDATE"
    " SET head = excluded.head, tail = excluded.tail, expires = excluded.expires"
)
_LIST_ITEMS = (
    "SELECT i.value FROM flask_vapi_list_keys AS k"
    " JOIN flask_vapi_list_items AS i ON i.key = k.key"
    " WHERE k.key = ? AND (k.expires IS NULL OR k.expires > ?) ORDER BY i.seq"
)
_LIST_EXPIRE = f"UPDATE flask_vapi_list_keys SET expires = ? WHERE key = ? AND {_LIVE}"
_LIST_DELETE = "DELETE FROM flask_vapi_list_keys WHERE key = ?"
# Purged a bounded number of rows at a time: items of expired lists first, then the
# headers of expired lists left empty (a list expired but not yet emptied reads as absent).
_LIST_PURGE_ITEMS = (
    "DELETE FROM flask_vapi_list_items WHERE (key, seq) IN"
    " (SELECT i.key, i.seq FROM flask_vapi_list_keys AS k"
    " JOIN flask_vapi_list_items AS i ON i.key = k.key WHERE k.expires <= ? LIMIT ?)"
)
_LIST_PURGE_KEYS = (
    "DELETE FROM flask_vapi_list_keys WHERE key IN"
    " (SELECT key FROM flask_vapi_list_keys AS k WHERE expires <= ? AND NOT EXISTS"
    " (SELECT 1 FROM flask_vapi_list_items AS i WHERE i.key = k.key) LIMIT ?)"
)

#: Every open store, so that a forked child can drop the connections it inherited.
_STORES: weakref.WeakSet[SQLiteStore] = weakref.WeakSet()
#: Connections inherited across fork(): kept referenced so that the child never closes them.
_INHERITED: list[sqlite3.Connection] = []


def _expires(ttl: float | None, now: float) -> float | None:
    return None if ttl is None else now + ttl


def _set_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """``PRAGMA journal_mode=WAL``, tried again for up to ``timeout`` seconds while the file
    is locked: SQLite fails it at once, without its busy handler, while another connection
    writes a file not yet in WAL mode (as two processes opening a new file at once do)."""
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "database is locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


class SQLiteStore(Store):
    """A :class:`~flask_vapi.store.Store` in one SQLite file (``PRAGMA journal_mode=WAL``).

    Each process has one connection, used by its threads in turn under a lock: SQLite lets
    one writer at a time anyway, and every operation is one short statement (two for
    :meth:`expire` and :meth:`delete`, one per table) or, for :meth:`update` and
    :meth:`append`, one ``BEGIN IMMEDIATE`` transaction.  Processes wait for each other's
    write lock up to ``busy_timeout`` seconds, then the operation raises
    :class:`~flask_vapi.store.StoreError`.  ``synchronous=NORMAL``: a power loss may undo
    the last writes, never corrupt the file.  Expiry uses ``time.time()``, the clock the
    processes share; expired rows are ignored on read and purged, ``PURGE_LIMIT`` at most
    (of values, of list items, of list headers), every ``PURGE_EVERY`` writes.  A list is a
    header row (its expiry, the range of its items) and one row per item.

    Checkpoints (copying the WAL into the database file, with its ``fsync``) are what made
    a write slow now and then: one write in a few hundred paid milliseconds, several times
    the median write on average.  So, as SQLite's documentation suggests, a thread of each
    process runs them (``PRAGMA wal_checkpoint(PASSIVE)``: it never blocks a writer), asked
    every ``CHECKPOINT_EVERY`` writes; a writer checkpoints itself only past
    ``AUTOCHECKPOINT_PAGES``.

    Fork-safe (gunicorn forks its workers from a parent that opened the store): the file is
    checked on construction and closed again, connections are opened on first use in each
    process, a child never uses one it inherited, and ``fork()`` waits for operations in
    flight so that no transaction is half-done in a child.
    """

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        #: The database file.
        self.path = path
        self._busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._writes = 0
        self._closed = False
        self._checkpoints: Checkpoints | None = None
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self._connect().close()  # fail at startup, not on a call
        self._conn: sqlite3.Connection | None = None
        _STORES.add(self)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                _set_wal(conn, self._busy_timeout)
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
                for statement in _SCHEMA:
                    conn.execute(statement)
            except BaseException:
                conn.close()
                raise
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        return conn

    def _error(self, exc: BaseException) -> StoreError:
        return StoreError(f"SQLite store {self.path}: {exc}")

    def _forked(self) -> None:
        """In a forked child: forget the parent's (idle) connection and its lock."""
        self._lock = threading.RLock()
        if self._conn is not None:
            _INHERITED.append(self._conn)
            self._conn = None
        if self._checkpoints is not None:  # its thread is not in this process
            left = self._checkpoints.forked()
            if left is not None:
                _INHERITED.append(left)
            self._checkpoints = None

    def _wrote(self, conn: sqlite3.Connection, now: float) -> None:
        self._writes += 1
        if self._writes % CHECKPOINT_EVERY == 0:
            if self._checkpoints is None:
                self._checkpoints = Checkpoints(self.path, self._busy_timeout)
            self._checkpoints.ask()
        if self._writes % PURGE_EVERY == 0:
            # The write itself succeeded; if the purge fails, the next one catches up.
            with contextlib.suppress(sqlite3.Error):
                for purge in (_PURGE, _LIST_PURGE_ITEMS, _LIST_PURGE_KEYS):
                    conn.execute(purge, (now, PURGE_LIMIT))

    def get(self, key: str) -> bytes | None:
        """See :meth:`Store.get`."""
        with _Session(self) as conn:
            row = conn.execute(_GET, (key, time.time())).fetchone()
        return None if row is None else bytes(row[0])

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        """See :meth:`Store.set`."""
        check_ttl(ttl)
        with _Session(self) as conn:
            now = time.time()
            conn.execute(_SET, (key, value, _expires(ttl, now)))
            self._wrote(conn, now)

    def add(self, key: str, value: bytes, ttl: float | None) -> bool:
        """See :meth:`Store.add` (one upsert statement that replaces only an expired row)."""
        check_ttl(ttl)
        with _Session(self) as conn:
            now = time.time()
            added = conn.execute(_ADD, (key, value, _expires(ttl, now), now)).rowcount == 1
            self._wrote(conn, now)
        return added

    def update(
        self,
        key: str,
        fn: Callable[[bytes | None], bytes | None],
        ttl: float | None,
    ) -> bytes | None:
        """See :meth:`Store.update` (``fn`` is called once, inside ``BEGIN IMMEDIATE``)."""
        check_ttl(ttl)
        with _Session(self) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                row = conn.execute(_GET, (key, now)).fetchone()
                new = fn(None if row is None else bytes(row[0]))
                if new is None:
                    conn.execute(_DELETE, (key,))
                else:
                    conn.execute(_SET, (key, check_value(new), _expires(ttl, now)))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # the first error says more than a failed rollback
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            self._wrote(conn, now)
        return new

    def append(self, key: str, values: Sequence[bytes], ttl: float | None, keep: int) -> int:
        """See :meth:`Store.append` (one ``BEGIN IMMEDIATE`` transaction that writes the new
        items, deletes the dropped ones and updates the list's header: the older items are
        not rewritten)."""
        check_ttl(ttl)
        check_keep(keep)
        kept = [check_value(value) for value in values][-keep:]
        with _Session(self) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                row = conn.execute(_LIST_HEAD, (key,)).fetchone()
                if row is None:
                    head = tail = 0
                else:
                    head, tail, expires = row
                    if expires is not None and expires <= now:  # expired: start afresh
                        conn.execute(_LIST_CLEAR, (key,))
                        head = tail = 0
                if row is not None or kept:  # appending nothing creates no list
                    conn.executemany(
                        _LIST_PUSH, ((key, tail + i, value) for i, value in enumerate(kept))
                    )
                    tail += len(kept)
                    if tail - head > keep:
                        head = tail - keep
                        conn.execute(_LIST_TRIM, (key, head))
                    conn.execute(_LIST_SET_HEAD, (key, head, tail, _expires(ttl, now)))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # the first error says more than a failed rollback
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            self._wrote(conn, now)
        return int(tail - head)

    def items(self, key: str) -> list[bytes]:
        """See :meth:`Store.items`."""
        with _Session(self) as conn:
            rows = conn.execute(_LIST_ITEMS, (key, time.time())).fetchall()
        return [bytes(row[0]) for row in rows]

    def expire(self, key: str, ttl: float | None) -> None:
        """See :meth:`Store.expire`."""
        check_ttl(ttl)
        with _Session(self) as conn:
            now = time.time()
            conn.execute(_EXPIRE, (_expires(ttl, now), key, now))
            conn.execute(_LIST_EXPIRE, (_expires(ttl, now), key, now))

    def delete(self, key: str) -> None:
        """See :meth:`Store.delete`."""
        with _Session(self) as conn:
            conn.execute(_DELETE, (key,))
            conn.execute(_LIST_DELETE, (key,))

    def close(self) -> None:
        """See :meth:`Store.close`."""
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()
            checkpoints, self._checkpoints = self._checkpoints, None
        if checkpoints is not None:
            checkpoints.stop()
        _STORES.discard(self)

    def __del__(self) -> None:
        # An app's store is never closed explicitly: close its connection with it (a
        # connection inherited across fork() was moved to _INHERITED and is not here).
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
        checkpoints = getattr(self, "_checkpoints", None)
        if checkpoints is not None:
            checkpoints.stop(wait=False)


class _Session:
    """``with``: hold the store's lock, open its connection if needed, and turn
    ``sqlite3.Error`` into :class:`~flask_vapi.store.StoreError`."""

    __slots__ = ("lock", "store")

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.lock = store._lock

    def __enter__(self) -> sqlite3.Connection:
        store = self.store
        self.lock.acquire()
        try:
            if store._closed:
                raise StoreError(f"SQLite store {store.path} is closed")
            if store._conn is None:
                store._conn = store._connect()
        except BaseException:
            self.lock.release()
            raise
        return store._conn

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.lock.release()
        if isinstance(exc, sqlite3.Error):
            raise self.store._error(exc) from exc


# SQLite keeps per-process lock state for each file, which a child inherits: forked in the
# middle of a transaction, the child could never write the file again, even through a new
# connection.  So fork() waits for the operations in flight, and for a checkpoint in flight
# (as logging does for its locks).
_FORKING: list[SQLiteStore] = []
_FORKING_CHECKPOINTS: list[Checkpoints] = []


def _before_fork() -> None:
    _FORKING[:] = list(_STORES)
    for store in _FORKING:
        store._lock.acquire()
        if store._checkpoints is not None:  # set under the store's lock
            _FORKING_CHECKPOINTS.append(store._checkpoints)
    for checkpoints in _FORKING_CHECKPOINTS:
        checkpoints.lock.acquire()


def _after_fork_in_parent() -> None:
    for checkpoints in _FORKING_CHECKPOINTS:
        checkpoints.lock.release()
    for store in _FORKING:
        store._lock.release()
    _FORKING.clear()
    _FORKING_CHECKPOINTS.clear()


def _after_fork_in_child() -> None:
    for store in _FORKING:
        store._forked()  # drops its checkpoints, whose lock stays held here, unused
    _FORKING.clear()
    _FORKING_CHECKPOINTS.clear()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
