"""SQLite checkpoints on a thread of their own, so that no write of a request pays for one."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import weakref

#: Every running checkpoint thread's owner, so that fork() can wait for a checkpoint.
_CHECKPOINTS: weakref.WeakSet[Checkpoints] = weakref.WeakSet()
#: Connections inherited across fork(): kept referenced so that the child never closes them.
_INHERITED: list[sqlite3.Connection] = []


class Checkpoints:
    """A daemon thread that checkpoints one database file each time it is asked, on a
    connection of its own; an error is left for the next checkpoint to catch up."""

    def __init__(self, path: str, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        #: Held while a checkpoint runs: ``fork()`` waits for it.
        self.lock = threading.Lock()
        self._asked = threading.Event()
        self._stopped = False
        self._conn: sqlite3.Connection | None = None
        self._thread = threading.Thread(
            target=self._loop, name="flask-vapi-sqlite-checkpoint", daemon=True
        )
        self._thread.start()
        _CHECKPOINTS.add(self)

    def ask(self) -> None:
        self._asked.set()

    def _loop(self) -> None:
        while True:
            self._asked.wait()
            self._asked.clear()
            with self.lock:
                if self._stopped:
                    break
                with contextlib.suppress(sqlite3.Error):
                    if self._conn is None:
                        self._conn = sqlite3.connect(
                            self.path, timeout=self.busy_timeout, isolation_level=None
                        )
                    self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        if self._conn is not None:
            self._conn.close()

    def stop(self, wait: bool = True) -> None:
        """End the thread (after the checkpoint it is running, if any)."""
        self._stopped = True
        self._asked.set()
        if wait and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.busy_timeout)
        _CHECKPOINTS.discard(self)

    def _forked(self) -> None:
        """In a forked child: the thread is not here; its connection is kept referenced
        (never closed here)."""
        self.lock = threading.Lock()
        if self._conn is not None:
            _INHERITED.append(self._conn)
        _CHECKPOINTS.discard(self)


# SQLite keeps per-process lock state for each file, which a child inherits: fork() waits
# for a checkpoint in flight, as it does for the store's operations (flask_vapi.store.sqlite).
_FORKING: list[Checkpoints] = []


def _before_fork() -> None:
    _FORKING[:] = list(_CHECKPOINTS)
    for checkpoints in _FORKING:
        checkpoints.lock.acquire()


def _after_fork_in_parent() -> None:
    for checkpoints in _FORKING:
        checkpoints.lock.release()
    _FORKING.clear()


def _after_fork_in_child() -> None:
    for checkpoints in _FORKING:
        checkpoints._forked()
    _FORKING.clear()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
