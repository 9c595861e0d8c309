"""The memory:// store: a thread-safe dict with expiry, private to one process (for tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Callable, Union

from flask_vapi.store import Store, StoreError, check_keep, check_ttl, check_value

#: Expired entries are dropped every this many writes (a full scan: memory:// is for tests).
PURGE_EVERY = 1024

#: A value, or a list's items (a key holds one or the other).
_Held = Union[bytes, list[bytes]]


class MemoryStore(Store):
    """A :class:`~flask_vapi.store.Store` in a dict guarded by one lock.

    Each instance is private: two ``open_store("memory://")`` calls give two empty stores,
    and nothing is shared with other processes.  Expiry uses ``time.time()``.
    """

    def __init__(self) -> None:
        self._data: dict[str, tuple[_Held, float | None]] | None = {}
        self._lock = (
            threading.RLock()
        )  # re-entrant: an update fn that uses the store cannot deadlock
        self._writes = 0

    def _live(self, key: str, now: float) -> _Held | None:
        data = self._open()
        entry = data.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and expires <= now:
            del data[key]
            return None
        return value

    def _open(self) -> dict[str, tuple[_Held, float | None]]:
        if self._data is None:
            raise StoreError("the memory store is closed")
        return self._data

    def _put(self, key: str, value: _Held, ttl: float | None, now: float) -> None:
        data = self._open()
        data[key] = (value, None if ttl is None else now + ttl)
        self._writes += 1
        if self._writes % PURGE_EVERY == 0:
            for stale in [k for k, (_, e) in data.items() if e is not None and e <= now]:
                del data[stale]

    def get(self, key: str) -> bytes | None:
        """See :meth:`Store.get`."""
        with self._lock:
            value = self._live(key, time.time())
            return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        """See :meth:`Store.set`."""
        check_ttl(ttl)
        with self._lock:
            self._put(key, value, ttl, time.time())

    def add(self, key: str, value: bytes, ttl: float | None) -> bool:
        """See :meth:`Store.add`."""
        check_ttl(ttl)
        with self._lock:
            now = time.time()
            if self._live(key, now) is not None:
                return False
            self._put(key, value, ttl, now)
            return True

    def update(
        self,
        key: str,
        fn: Callable[[bytes | None], bytes | None],
        ttl: float | None,
    ) -> bytes | None:
        """See :meth:`Store.update` (``fn`` is called once, under the store's lock)."""
        check_ttl(ttl)
        with self._lock:
            now = time.time()
            current = self._live(key, now)
            new = fn(current if isinstance(current, bytes) else None)
            if new is None:
                self._open().pop(key, None)
            else:
                self._put(key, check_value(new), ttl, now)
            return new

    def append(self, key: str, values: Sequence[bytes], ttl: float | None, keep: int) -> int:
        """See :meth:`Store.append`."""
        check_ttl(ttl)
        check_keep(keep)
        added = [check_value(value) for value in values]  # a bad value appends nothing
        with self._lock:
            now = time.time()
            current = self._live(key, now)
            held = (current if isinstance(current, list) else []) + added
            del held[:-keep]
            self._put(key, held, ttl, now)
            return len(held)

    def items(self, key: str) -> list[bytes]:
        """See :meth:`Store.items`."""
        with self._lock:
            held = self._live(key, time.time())
            return list(held) if isinstance(held, list) else []

    def expire(self, key: str, ttl: float | None) -> None:
        """See :meth:`Store.expire`."""
        check_ttl(ttl)
        with self._lock:
            now = time.time()
            value = self._live(key, now)
            if value is not None:
                self._open()[key] = (value, None if ttl is None else now + ttl)

    def delete(self, key: str) -> None:
        """See :meth:`Store.delete`."""
        with self._lock:
            self._open().pop(key, None)

    def close(self) -> None:
        """See :meth:`Store.close`."""
        with self._lock:
            self._data = None
