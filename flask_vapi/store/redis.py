"""The redis:// store: redis-py on a connection pool, for workers on many machines."""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Sequence
from typing import Any, Callable, cast

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from flask_vapi.store import Store, StoreError, check_keep, check_ttl, check_value

#: Seconds to connect, and to wait for any reply, before an operation raises StoreError.
SOCKET_TIMEOUT = 1.0
#: Attempts of one :meth:`RedisStore.update` whose key other writers keep changing.
UPDATE_ATTEMPTS = 100

_FAILURES = (redis.RedisError, OSError)

# Compare-and-set, atomic in the server: write ARGV[2] (delete if ARGV[1] is "d", else set,
# with PX ARGV[3] when given) only if the key still holds the value the caller saw, known
# by its SHA-1 (ARGV[4], or "" for absent).  {1} when written; else {0, the value now}
# ({0} when the key is absent), so that the caller can try again without another read.
_COMPARE_AND_SET = """
local current = redis.call('GET', KEYS[1])
local seen = current and redis.sha1hex(current) or ''
if seen ~= ARGV[4] then return {0, current} end
if ARGV[1] == 'd' then redis.call('DEL', KEYS[1])
elseif ARGV[3] == '' then redis.call('SET', KEYS[1], ARGV[2])
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return {1}
"""
#: Values this process last wrote with :meth:`RedisStore.update` are kept (keys at most,
#: values up to this many bytes): the next update of the key tries them as what it holds.
SEEN_KEYS = 1024
SEEN_BYTES = 65536
_UNSEEN = object()


def _px(ttl: float) -> int:
    return max(1, math.ceil(ttl * 1000))


class RedisStore(Store):
    """A :class:`~flask_vapi.store.Store` on a Redis server, every key under ``key_prefix``.

    TTLs are set with ``PX`` (milliseconds, rounded up), so expiry is the server's.
    :meth:`add` is ``SET NX``; :meth:`update` is a compare-and-set script: one round trip
    when the key still holds what this store last wrote there (the state of a call whose
    tools run in this process), two (a ``GET`` first) otherwise; it is tried again while
    other writers change the key, at most ``UPDATE_ATTEMPTS`` times.  The client is built
    by :meth:`from_url` with
    ``SOCKET_TIMEOUT`` (1 s) to connect and to read, and no automatic retry: a lost reply
    of a ``SET NX`` must not be retried into a second claim.  So with the server down or
    hung an operation raises :class:`~flask_vapi.store.StoreError` within about a second.
    redis-py's pool is fork-safe: a child process opens its own connections.
    """

    def __init__(self, client: redis.Redis, *, key_prefix: str = "flask-vapi:") -> None:
        #: The redis-py client (``decode_responses`` must be off: values are bytes).
        self.client = client
        #: Prepended to every key: the store's namespace in a shared Redis database.
        self.key_prefix = key_prefix
        # EVALSHA, loading the script first where the server does not have it.
        self._compare_and_set = client.register_script(_COMPARE_AND_SET)
        # Key -> the value this store last wrote with update (None: deleted).  A stale one
        # costs one failed compare-and-set, never a wrong write.
        self._seen: dict[str, bytes | None] = {}

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str = "flask-vapi:") -> RedisStore:
        """A store on the server at ``url``, checked with ``PING``.

        Query parameters of ``url`` are redis-py's (``?socket_timeout=5`` overrides the
        default).  Raises :class:`~flask_vapi.store.StoreError` if the server does not
        answer, ``ValueError`` if ``url`` is not a Redis URL.
        """
        options: dict[str, Any] = {
            "socket_timeout": SOCKET_TIMEOUT,
            "socket_connect_timeout": SOCKET_TIMEOUT,
            "retry": Retry(NoBackoff(), 0),
        }
        store = cls(redis.Redis.from_url(url, **options), key_prefix=key_prefix)
        try:
            store.client.ping()
        except _FAILURES as exc:
            store.close()
            raise StoreError(f"Redis store: {exc}") from exc
        return store

    def get(self, key: str) -> bytes | None:
        """See :meth:`Store.get`."""
        name = self.key_prefix + key
        try:
            value = cast("bytes | None", self.client.get(name))
        except _FAILURES as exc:
            raise StoreError(f"Redis store: {exc}") from exc
        if name in self._seen:  # a read-modify-write in two steps guesses right then
            self._saw(name, value)
        return value

    def _saw(self, name: str, value: bytes | None) -> None:
        if value is not None and len(value) > SEEN_BYTES:
            self._seen.pop(name, None)
            return
        if len(self._seen) >= SEEN_KEYS and name not in self._seen:
            self._seen.clear()  # cheaper than an LRU, and only costs a read per key
        self._seen[name] = value

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        """See :meth:`Store.set`."""
        check_ttl(ttl)
        self._seen.pop(self.key_prefix + key, None)
        try:
            self.client.set(self.key_prefix + key, value, px=None if ttl is None else _px(ttl))
        except _FAILURES as exc:
            raise StoreError(f"Redis store: {exc}") from exc

    def add(self, key: str, value: bytes, ttl: float | None) -> bool:
        """See :meth:`Store.add` (``SET NX``)."""
        check_ttl(ttl)
        px = None if ttl is None else _px(ttl)
        self._seen.pop(self.key_prefix + key, None)
        try:
            return bool(self.client.set(self.key_prefix + key, value, px=px, nx=True))
        except _FAILURES as exc:
            raise StoreError(f"Redis store: {exc}") from exc

    def update(
        self,
        key: str,
        fn: Callable[[bytes | None], bytes | None],
        ttl: float | None,
    ) -> bytes | None:
        """See :meth:`Store.update`: ``fn`` is called again each time another writer
        changed the key between the read and the write, up to ``UPDATE_ATTEMPTS`` times."""
        check_ttl(ttl)
        name = self.key_prefix + key
        px = "" if ttl is None else str(_px(ttl))
        try:
            old = self._seen.get(name, _UNSEEN)
            guessed = old is not _UNSEEN
            if not guessed:
                old = self.client.get(name)
            for attempt in range(UPDATE_ATTEMPTS):
                assert old is None or isinstance(old, bytes)
                try:
                    new = fn(old)
                except Exception:
                    if not guessed:
                        raise
                    guessed = False  # ``fn`` refused the guess: give it what the key holds
                    old = self.client.get(name)
                    continue
                seen = "" if old is None else hashlib.sha1(old, usedforsecurity=False).hexdigest()
                write = ("d", b"") if new is None else ("s", check_value(new))
                reply = self._compare_and_set(keys=[name], args=[*write, px, seen])
                if reply[0] == 1:
                    self._saw(name, new)
                    return new
                old = reply[1] if len(reply) > 1 else None
                if guessed:  # what this store wrote last was not there: no contention yet
                    guessed = False
                    continue
                # Spread the retries of many writers of one key (a few ms at most).
                time.sleep(random.uniform(0, 0.0005 * min(attempt + 1, 10)))
        except _FAILURES as exc:
            self._seen.pop(name, None)
            raise StoreError(f"Redis store: {exc}") from exc
        self._seen.pop(name, None)
        raise StoreError(f"Redis store: {UPDATE_ATTEMPTS} conflicting writes to {key!r}")

    def append(self, key: str, values: Sequence[bytes], ttl: float | None, keep: int) -> int:
        """See :meth:`Store.append` (``RPUSH``, ``LTRIM``, ``PEXPIRE``/``PERSIST`` and
        ``LLEN`` in one ``MULTI``/``EXEC``)."""
        check_ttl(ttl)
        check_keep(keep)
        values = [check_value(value) for value in values]
        name = self.key_prefix + key
        try:
            with self.client.pipeline(transaction=True) as pipe:
                if values:
                    pipe.rpush(name, *values)
                pipe.ltrim(name, -keep, -1)
                if ttl is None:
                    pipe.persist(name)
                else:
                    pipe.pexpire(name, _px(ttl))
                pipe.llen(name)
                return int(pipe.execute()[-1])
        except _FAILURES as exc:
            raise StoreError(f"Redis store: {exc}") from exc

    def items(self, key: str) -> list[bytes]:
        """See :meth:`Store.items` (``LRANGE 0 -1``)."""
        try:
            return list(cast("list[bytes]", self.client.lrange(self.key_prefix + key, 0, -1)))
        except _FAILURES as exc:
            raise StoreError(f"Redis store: {exc}") from exc

    def expire(self, key: str, ttl: float | None) -> None:
        """See :meth:`Store.expire` (``PEXPIRE``, or ``PERSIST`` for ``None``)."""
        check_ttl(ttl)
        name = self.key_prefix + key
        try:
            if ttl is None:
                self.client.persist(name)
            else:
                self.client.pexpire(name, _px(ttl))
        except _FAILURES as exc:
            raise StoreError(f"Redis store: {exc}") from exc

    def delete(self, key: str) -> None:
        """See :meth:`Store.delete`."""
        self._seen.pop(self.key_prefix + key, None)
        try:
            self.client.delete(self.key_prefix + key)
        except _FAILURES as exc:
            raise StoreError(f"Redis store: {exc}") from exc

    def close(self) -> None:
        """See :meth:`Store.close` (disconnects the pool)."""
        self.client.close()
        self.client.connection_pool.disconnect()
