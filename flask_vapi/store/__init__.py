"""The store: a narrow key-value interface with TTLs and an atomic update, and open_store."""

from __future__ import annotations

import abc
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Callable
from urllib.parse import unquote, unquote_plus, urlsplit

from flask_vapi.errors import ConfigurationError

if TYPE_CHECKING:
    from flask_vapi.store.redis import RedisStore

__all__ = ["Store", "StoreError", "open_store", "redact_url"]


class StoreError(Exception):
    """A back end failed (server down, timeout, disk error, database locked past its timeout).

    Every back-end failure is raised as this one type, its cause chained, so the request
    path can catch one thing and go on without the store.
    """


class Store(abc.ABC):
    """A key-value store shared by every worker that opens the same URL.

    Keys are ``str``, values ``bytes``.  A ``ttl`` is a positive number of seconds after
    which the key is gone, or ``None`` for no expiry; every write sets the key's TTL anew.
    Every operation is atomic on its own; :meth:`add`, :meth:`update` and :meth:`append`
    are the ones that concurrent writers (threads, processes, machines) can build on.
    Back-end failures raise :class:`StoreError`; a non-positive ``ttl`` is a programming
    error (``ValueError``).

    A key holds either a value (:meth:`set`, :meth:`add`, :meth:`update`) or a list
    (:meth:`append`); :meth:`expire` and :meth:`delete` work on both, and reading a key
    as the other kind is an error of the caller's (its result is undefined).

    The interface is kept this narrow on purpose, so that a back end is a page of code:
    subclass it and implement the nine methods.
    """

    @abc.abstractmethod
    def get(self, key: str) -> bytes | None:
        """The value of ``key``, or ``None`` if it is absent or expired."""

    @abc.abstractmethod
    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        """Store ``value`` under ``key`` (replacing any value) for ``ttl`` seconds."""

    @abc.abstractmethod
    def add(self, key: str, value: bytes, ttl: float | None) -> bool:
        """Store ``value`` only if ``key`` is absent or expired; ``True`` if it was stored.

        Of any number of concurrent ``add`` calls for one key, across processes and
        machines sharing the store, exactly one returns ``True``: it is a claim.
        """

    @abc.abstractmethod
    def update(
        self,
        key: str,
        fn: Callable[[bytes | None], bytes | None],
        ttl: float | None,
    ) -> bytes | None:
        """Atomically replace the value of ``key`` by ``fn(current)``; return the new value.

        ``fn`` gets the current value (``None`` if absent or expired) and returns the new
        one, or ``None`` to delete the key.  Concurrent updates of one key never lose one.
        ``fn`` may be called more than once (the Redis back end retries on a conflicting
        write), so it must have no side effect other than its result, and it must not use
        the store.  An exception raised by ``fn`` leaves the key unchanged and propagates
        as it is (it is not a :class:`StoreError`).
        """

    @abc.abstractmethod
    def append(self, key: str, values: Sequence[bytes], ttl: float | None, keep: int) -> int:
        """Append ``values`` to the list ``key`` (a new list if it is absent or expired),
        drop all but its last ``keep`` items, give the list ``ttl``; return its length.

        Atomic: concurrent appends to one list, across processes and machines, lose no
        item and interleave whole calls.  ``keep`` is a positive ``int``.
        """

    @abc.abstractmethod
    def items(self, key: str) -> list[bytes]:
        """The items of the list ``key``, oldest first (``[]`` if absent or expired)."""

    @abc.abstractmethod
    def expire(self, key: str, ttl: float | None) -> None:
        """Give an existing ``key`` a new TTL (``None``: keep it forever); absent: no-op."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key`` (no-op if absent)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections and files; the store must not be used afterwards."""


def check_ttl(ttl: float | None) -> None:
    """Raise ``ValueError`` unless ``ttl`` is ``None`` or a positive number of seconds."""
    if ttl is not None and not ttl > 0:
        raise ValueError(f"a store TTL is a positive number of seconds or None, not {ttl!r}")


def check_keep(keep: int) -> None:
    """Raise ``ValueError`` unless ``keep`` (how many items a list keeps) is a positive int."""
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ValueError(f"a list keeps a positive number of items, not {keep!r}")


def check_value(value: object) -> bytes:
    """``value`` if it is ``bytes`` (an update function's result), else ``TypeError``."""
    if not isinstance(value, bytes):
        raise TypeError(f"a store value is bytes or None, not {type(value).__name__}")
    return value


# user:password@ up to the last "@": a password may hold an unescaped "@" (hiding too much
# of a URL that has an "@" further on is the safe mistake).
_USERINFO = re.compile(r"(?<=://)([^:@/]*):.*@(?=[^@]*$)")
_PASSWORD_PARAM = re.compile(r"(?i)([?&](?:password|pass|pwd)=)[^&#]*")


def redact_url(url: str) -> str:
    """``url`` with any password (in the user info or a ``password=`` parameter) as ``***``.

    Works on the raw text, so that it also hides the password of a URL that does not parse.
    """
    return _PASSWORD_PARAM.sub(r"\1***", _USERINFO.sub(r"\1:***@", url))


def _scrub(text: str, url: str) -> str:
    """``text`` (an error message about ``url``) with the URL's password removed."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        for secret in (password, unquote(password)):
            text = text.replace(secret, "***")
    return text


def open_store(url: str, *, instance_path: str | None = None) -> Store:
    """Open the store named by ``url`` (``VAPI_STORE_URL``), ready to use.

    - ``memory://``: a private in-process store (for tests; not shared between workers).
    - ``sqlite:///<path>``: a SQLite file, shared by the processes of one machine.  As in
      SQLAlchemy, ``sqlite:////abs/path`` (four slashes) is absolute and
      ``sqlite:///rel/path`` is relative to ``instance_path`` (the app's instance folder)
      or, without one, to the working directory.  Missing directories are created.
    - ``redis://[[user]:password@]host[:port][/db]`` (or ``rediss://`` for TLS): a Redis
      server, shared by every machine; needs ``pip install 'flask-vapi[redis]'``.  Keys
      are prefixed ``flask-vapi:``; ``?key_prefix=myapp:`` sets another prefix.  Other
      query parameters are redis-py's (``?socket_timeout=5``).

    The store is checked before it is returned (the file is opened, the server pinged):
    a bad URL, an unusable path or an unreachable server raises
    :class:`~flask_vapi.errors.ConfigurationError` naming the URL without its password.
    """
    shown = redact_url(url)
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    try:
        if scheme == "memory" and rest == "":
            from flask_vapi.store.memory import MemoryStore

            return MemoryStore()
        if scheme == "sqlite" and rest.startswith("/"):
            from flask_vapi.store.sqlite import SQLiteStore

            return SQLiteStore(_sqlite_path(rest[1:], instance_path))
        if scheme in ("redis", "rediss"):
            return _open_redis(url)
    except ConfigurationError:
        raise
    except (StoreError, ValueError, OSError) as exc:
        message = _scrub(str(exc), url)
        raise ConfigurationError(f"VAPI_STORE_URL {shown!r}: {message}") from None
    raise ConfigurationError(
        f"VAPI_STORE_URL {shown!r} is not a store URL: use memory://, sqlite:///<path> "
        "or redis://host:port/db"
    )


def _sqlite_path(path: str, instance_path: str | None) -> str:
    if not path or "?" in path or "#" in path:
        raise ValueError("a SQLite store URL is sqlite:///<path>, without query or fragment")
    if os.path.isabs(path):
        return path
    return os.path.join(instance_path or os.getcwd(), path)


def _open_redis(url: str) -> RedisStore:
    try:
        from flask_vapi.store.redis import RedisStore
    except ImportError:
        raise ConfigurationError(
            f"VAPI_STORE_URL {redact_url(url)!r} needs the redis package: "
            "pip install 'flask-vapi[redis]'"
        ) from None
    parts = urlsplit(url)
    parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    prefix, kept = "flask-vapi:", []
    for item in parts.query.split("&") if parts.query else ():
        name, _, value = item.partition("=")
        if name == "key_prefix":
            prefix = unquote_plus(value)
        elif name == "decode_responses":
            raise ValueError("decode_responses is not a store option: values are bytes")
        else:
            kept.append(item)
    return RedisStore.from_url(parts._replace(query="&".join(kept)).geturl(), key_prefix=prefix)
