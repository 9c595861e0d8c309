"""The store contract, every back end: get, set, add, update, expire, delete (lists: test_lists)."""

from __future__ import annotations

import pytest

from flask_vapi.store import Store, open_store

ODD_BYTES = bytes(range(256)) + b"\x00\xff\x00"


def test_get_of_an_absent_key_is_none(store: Store) -> None:
    assert store.get("absent") is None


def test_set_then_get(store: Store) -> None:
    store.set("k", b"one", None)
    store.set("other", b"two", 60)
    assert store.get("k") == b"one"
    assert store.get("other") == b"two"


def test_set_replaces(store: Store) -> None:
    store.set("k", b"one", None)
    store.set("k", b"two", None)
    assert store.get("k") == b"two"


def test_values_are_arbitrary_bytes(store: Store) -> None:
    store.set("bytes", ODD_BYTES, None)
    store.set("empty", b"", None)
    assert store.get("bytes") == ODD_BYTES
    assert store.get("empty") == b""
    assert store.update("bytes", lambda old: (old or b"") + b"\xff", None) == ODD_BYTES + b"\xff"
    assert store.get("bytes") == ODD_BYTES + b"\xff"


def test_long_and_unusual_keys(store: Store) -> None:
    long_key = "call:" + "é☎" * 2000 + ":tool"
    store.set(long_key, b"long", None)
    store.set("with spaces\nand\x00nul", b"odd", None)
    assert store.get(long_key) == b"long"
    assert store.get(long_key[:-1]) is None
    assert store.get("with spaces\nand\x00nul") == b"odd"


def test_add_stores_only_if_absent(store: Store) -> None:
    assert store.add("claim", b"first", 60) is True
    assert store.add("claim", b"second", 60) is False
    assert store.get("claim") == b"first"


def test_add_after_delete_wins_again(store: Store) -> None:
    assert store.add("claim", b"first", None) is True
    store.delete("claim")
    assert store.add("claim", b"second", None) is True
    assert store.get("claim") == b"second"


def test_update_of_an_absent_key_gets_none(store: Store) -> None:
    seen: list[bytes | None] = []

    def fn(old: bytes | None) -> bytes:
        seen.append(old)
        return b"new"

    assert store.update("k", fn, None) == b"new"
    assert seen[-1] is None
    assert store.get("k") == b"new"


def test_update_gets_the_current_value(store: Store) -> None:
    store.set("k", b"2", None)
    assert store.update("k", lambda old: str(int(old or b"0") * 21).encode(), 60) == b"42"
    assert store.get("k") == b"42"


def test_update_returning_none_deletes(store: Store) -> None:
    store.set("k", b"v", None)
    assert store.update("k", lambda old: None, None) is None
    assert store.get("k") is None
    assert store.add("k", b"again", None) is True


def test_update_returning_none_for_an_absent_key_stores_nothing(store: Store) -> None:
    assert store.update("k", lambda old: None, None) is None
    assert store.get("k") is None


def test_an_exception_in_update_leaves_the_value_and_propagates(store: Store) -> None:
    store.set("k", b"kept", None)

    def fn(old: bytes | None) -> bytes:
        raise LookupError("from fn")

    with pytest.raises(LookupError, match="from fn"):
        store.update("k", fn, None)
    assert store.get("k") == b"kept"
    store.set("k", b"still usable", None)
    assert store.get("k") == b"still usable"


def test_update_rejects_a_value_that_is_not_bytes(store: Store) -> None:
    store.set("k", b"kept", None)
    with pytest.raises(TypeError, match="bytes"):
        store.update("k", lambda old: "text", None)  # type: ignore[arg-type,return-value]
    assert store.get("k") == b"kept"


def test_delete(store: Store) -> None:
    store.set("k", b"v", None)
    store.delete("k")
    store.delete("never-set")
    assert store.get("k") is None


def test_expire_of_an_absent_key_creates_nothing(store: Store) -> None:
    store.expire("absent", 60)
    store.expire("absent", None)
    assert store.get("absent") is None


@pytest.mark.parametrize("ttl", [0, -1.0])
def test_a_ttl_is_positive_or_none(store: Store, ttl: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        store.set("k", b"v", ttl)
    with pytest.raises(ValueError, match="positive"):
        store.add("k", b"v", ttl)
    with pytest.raises(ValueError, match="positive"):
        store.update("k", lambda old: b"v", ttl)
    with pytest.raises(ValueError, match="positive"):
        store.expire("k", ttl)
    assert store.get("k") is None


def test_two_stores_on_one_url_share_keys(shared_url: str) -> None:
    first, second = open_store(shared_url), open_store(shared_url)
    try:
        first.set("shared", b"v", None)
        assert second.get("shared") == b"v"
        assert second.add("shared", b"w", None) is False
    finally:
        first.close()
        second.close()


def test_memory_stores_are_private() -> None:
    first, second = open_store("memory://"), open_store("memory://")
    first.set("k", b"v", None)
    assert second.get("k") is None
