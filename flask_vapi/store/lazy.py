"""A store opened on first use, so the default SQLite file exists only once it is used."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Callable

from ..errors import ConfigurationError
from . import Store, StoreError


class LazyStore(Store):
    """The store ``opener()`` returns, opened on the first operation (then kept).

    An opener that fails raises :class:`~flask_vapi.store.StoreError` from that operation
    (the request goes on without the store), and is tried again by the next one.
    """

    def __init__(self, opener: Callable[[], Store], description: str) -> None:
        self._opener = opener
        self._store: Store | None = None
        self._lock = threading.Lock()
        #: What the store is, for log lines (a URL without its password).
        self.description = description

    def _open(self) -> Store:
        store = self._store
        if store is None:
            with self._lock:
                if self._store is None:
                    try:
                        self._store = self._opener()
                    except ConfigurationError as exc:
                        raise StoreError(str(exc)) from exc
                store = self._store
        return store

    def get(self, key: str) -> bytes | None:
        return self._open().get(key)

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        self._open().set(key, value, ttl)

    def add(self, key: str, value: bytes, ttl: float | None) -> bool:
        return self._open().add(key, value, ttl)

    def update(
        self, key: str, fn: Callable[[bytes | None], bytes | None], ttl: float | None
    ) -> bytes | None:
        return self._open().update(key, fn, ttl)

    def append(self, key: str, values: Sequence[bytes], ttl: float | None, keep: int) -> int:
        return self._open().append(key, values, ttl, keep)

    def items(self, key: str) -> list[bytes]:
        return self._open().items(key)

    def expire(self, key: str, ttl: float | None) -> None:
        self._open().expire(key, ttl)

    def delete(self, key: str) -> None:
        self._open().delete(key)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
