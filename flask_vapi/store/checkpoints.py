"""SQLite checkpoints on a thread of their own, so that no write of a request pays for one."""

from __future__ import annotations

import contextlib
import sqlite3
import threading


class Checkpoints:
    """A daemon thread that checkpoints one database file each time it is asked, on a
    connection of its own; an error is left for the next checkpoint to catch up.

    Its store makes ``fork()`` wait for a checkpoint in flight (it holds :attr:`lock`), as
    it does for its own operations (:mod:`flask_vapi.store.sqlite`).
    """

    def __init__(self, path: str, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        #: Held while a checkpoint runs.
        self.lock = threading.Lock()
        self._asked = threading.Event()
        self._stopped = False
        self._conn: sqlite3.Connection | None = None
        self._thread = threading.Thread(
            target=self._loop, name="flask-vapi-sqlite-checkpoint", daemon=True
        )
        self._thread.start()

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

    def forked(self) -> sqlite3.Connection | None:
        """In a forked child, where the thread is not: the connection it leaves behind
        (never to be closed here)."""
        return self._conn
