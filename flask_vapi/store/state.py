"""Per-call state: a mapping kept in the store under the call's id, shared by every worker."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator, MutableMapping
from typing import Any, Callable

from .. import jsonio
from . import Store, StoreError

#: Seconds call state is kept while the call goes on (its end-of-call report shortens it to
#: ``VAPI_CALL_STATE_TTL``): a call that never reports does not stay forever.
LIVE_TTL = 86400.0


class CallState(MutableMapping[str, Any]):
    """The state of one call: ``call_state["patient_id"] = 42`` in one tool, read in the next.

    Values are JSON (what :func:`flask_vapi.jsonio.dumps` writes: a ``datetime`` comes back
    as its ISO text).  Each read sees the store as it is; each write (``[key] = value``,
    ``del``, :meth:`update`, :meth:`setdefault`, :meth:`pop`) is one atomic update, so two
    workers setting different keys never lose each other's.  For read-modify-write (a
    counter), use :meth:`transaction`.  A store failure raises
    :class:`~flask_vapi.store.StoreError` (in a tool: that call's error)::

        >>> from flask_vapi.store.memory import MemoryStore
        >>> state = CallState(MemoryStore(), "call-1")
        >>> state["patient_id"] = 42
        >>> with state.transaction() as data:
        ...     data["tools_called"] = data.get("tools_called", 0) + 1
        >>> dict(state)
        {'patient_id': 42, 'tools_called': 1}
    """

    def __init__(self, store: Store, call_id: str, *, ttl: float = LIVE_TTL) -> None:
        self.store = store
        self.call_id = call_id
        self.ttl = ttl
        self.key = f"state:{call_id}"

    def __repr__(self) -> str:
        return f"<CallState {self.call_id!r}>"

    def _read(self) -> dict[str, Any]:
        return _decode(self.store.get(self.key))[0]

    def _change(self, change: Callable[[dict[str, Any]], Any]) -> Any:
        outcome: list[Any] = []
        ends: list[float | None] = [None]

        def update(current: bytes | None) -> bytes:
            data, ends[0] = _decode(current)
            outcome[:] = [change(data)]  # ``update`` may run more than once (Redis retries)
            return _encode(data, ends[0])

        self.store.update(self.key, update, self.ttl)
        if ends[0] is not None:  # the call ended: the write keeps the state's end
            self.store.expire(self.key, _remaining(ends[0]))
        return outcome[0]

    def __getitem__(self, key: str) -> Any:
        return self._read()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        _encode({key: value})  # refuse a value JSON cannot hold before touching the store
        self._change(lambda data: data.__setitem__(key, value))

    def __delitem__(self, key: str) -> None:
        if not self._change(lambda data: data.pop(key, _ABSENT) is not _ABSENT):
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

    def __contains__(self, key: object) -> bool:
        return key in self._read()

    def update(self, *others: Any, **values: Any) -> None:
        """Set several keys in one atomic write (as ``dict.update``)."""
        new: dict[str, Any] = dict(*others, **values)
        _encode(new)
        self._change(lambda data: data.update(new))

    def setdefault(self, key: str, default: Any = None) -> Any:
        """``state[key]``, first set to ``default`` if absent, in one atomic write."""
        _encode({key: default})
        return self._change(lambda data: data.setdefault(key, default))

    def clear(self) -> None:
        """Forget this call's state."""
        self.store.delete(self.key)

    @contextlib.contextmanager
    def transaction(self, timeout: float = 10.0) -> Iterator[dict[str, Any]]:
        """Read, change and write the state with no other writer in between::

            with call_state.transaction() as state:
                state["attempts"] = state.get("attempts", 0) + 1

        Other transactions on this call wait (up to ``timeout`` seconds, then
        :class:`~flask_vapi.store.StoreError`), across workers and machines; the dict is
        written back when the block ends without an exception, only if nobody changed the
        state meanwhile: a plain write (``state[key] = value``, which does not wait for a
        transaction) or a block that held the lock past ``timeout`` (the lock lapses then)
        makes the write raise :class:`~flask_vapi.store.StoreError` instead of losing the
        other write.
        """
        lock, token = f"lock:{self.key}", uuid.uuid4().hex.encode()
        stop, pause = time.monotonic() + timeout, 0.001
        while not self.store.add(lock, token, timeout):
            if time.monotonic() >= stop:
                raise StoreError(f"call state {self.call_id!r} stayed locked for {timeout:g} s")
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        try:
            read = self.store.get(self.key)
            data, ends = _decode(read)
            yield data

            def write(current: bytes | None) -> bytes:
                if current != read:
                    raise _Changed
                return _encode(data, ends)

            ttl = self.ttl if ends is None else _remaining(ends)
            try:
                self.store.update(self.key, write, ttl)
            except _Changed:
                raise StoreError(
                    f"call state {self.call_id!r} was changed by another writer during a "
                    f"transaction (a plain write, or a block longer than its {timeout:g} s "
                    "lock): the block's changes were not written"
                ) from None
        finally:
            self.store.update(lock, lambda current: None if current == token else current, None)

    def ended(self, ttl: float) -> None:
        """Keep the state ``ttl`` more seconds: the call ended (hook tool calls may follow).

        The end is kept with the state, so that a later write does not prolong it.
        """
        ends = time.time() + ttl

        def mark(current: bytes | None) -> bytes | None:
            return None if current is None else _encode(_decode(current)[0], ends)

        self.store.update(self.key, mark, ttl)


_ABSENT = object()
#: The key under which the stored JSON object keeps when the state ends (``time.time()``),
#: once the call's end-of-call report came; never shown as part of the state.
_ENDS = "\u0000ends"


class _Changed(Exception):
    """The state changed between a transaction's read and its write."""


def _remaining(ends: float) -> float:
    return max(ends - time.time(), 0.001)


def _decode(raw: bytes | None) -> tuple[dict[str, Any], float | None]:
    """The state, and when it ends (``None``: while the call goes on)."""
    if raw is None:
        return {}, None
    data = jsonio.loads(raw)
    if not isinstance(data, dict):
        return {}, None
    ends = data.pop(_ENDS, None)
    return data, float(ends) if isinstance(ends, (int, float)) else None


def _encode(data: dict[str, Any], ends: float | None = None) -> bytes:
    try:
        return jsonio.dumps(data if ends is None else {**data, _ENDS: ends})
    except jsonio.EncodeError as exc:
        raise TypeError(f"call_state values must be JSON: {exc}") from None
