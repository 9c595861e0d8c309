"""TTLs on every back end: keys vanish after their TTL, expire() changes it, add() reclaims."""

from __future__ import annotations

import time
from typing import Callable

from flask_vapi.store import Store

SHORT = 0.2  # seconds: the TTL of keys that must vanish
PATIENCE = 10.0  # seconds: how long a test polls for a key to vanish (a bound, not a claim)


def eventually(condition: Callable[[], bool]) -> bool:
    """Whether ``condition()`` becomes true within PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_key_vanishes_after_its_ttl(store: Store) -> None:
    store.set("short", b"v", SHORT)
    store.set("long", b"v", 600)
    store.set("forever", b"v", None)
    assert eventually(lambda: store.get("short") is None)
    assert store.get("long") == b"v"
    assert store.get("forever") == b"v"


def test_add_reclaims_an_expired_key(store: Store) -> None:
    assert store.add("claim", b"first", SHORT) is True
    assert eventually(lambda: store.add("claim", b"second", None))
    assert store.get("claim") == b"second"
    assert store.add("claim", b"third", None) is False


def test_update_sees_an_expired_key_as_absent(store: Store) -> None:
    store.set("k", b"old", SHORT)
    assert eventually(lambda: store.get("k") is None)
    seen: list[bytes | None] = []
    store.update("k", lambda old: seen.append(old) or b"new", None)
    assert seen[-1] is None
    assert store.get("k") == b"new"


def test_update_sets_the_ttl(store: Store) -> None:
    store.set("k", b"v", None)
    store.update("k", lambda old: b"w", SHORT)
    assert eventually(lambda: store.get("k") is None)


def test_set_without_ttl_removes_the_old_ttl(store: Store) -> None:
    store.set("k", b"v", SHORT)
    store.set("k", b"w", None)
    time.sleep(SHORT * 2)
    assert store.get("k") == b"w"


def test_expire_shortens_the_ttl(store: Store) -> None:
    store.set("k", b"v", None)
    store.expire("k", SHORT)
    assert store.get("k") == b"v"
    assert eventually(lambda: store.get("k") is None)


def test_expire_none_keeps_the_key(store: Store) -> None:
    store.set("k", b"v", SHORT)
    store.expire("k", None)
    time.sleep(SHORT * 2)
    assert store.get("k") == b"v"


def test_expire_lengthens_the_ttl(store: Store) -> None:
    store.set("k", b"v", SHORT)
    store.expire("k", 600)
    time.sleep(SHORT * 2)
    assert store.get("k") == b"v"


def test_expire_does_not_revive_an_expired_key(store: Store) -> None:
    store.set("k", b"v", SHORT)
    assert eventually(lambda: store.get("k") is None)
    store.expire("k", 600)
    assert store.get("k") is None
