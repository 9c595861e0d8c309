"""The list operations of the store contract, on every back end: append (keep, TTL) and items."""

from __future__ import annotations

import pytest

from flask_vapi.store import Store
from tests.store.test_expiry import SHORT, eventually

ODD_BYTES = bytes(range(256)) + b"\x00\xff\x00"


def test_items_of_an_absent_list_are_empty(store: Store) -> None:
    assert store.items("nothing") == []


def test_append_adds_in_order_and_returns_the_length(store: Store) -> None:
    assert store.append("log", [b"a"], 600, 100) == 1
    assert store.append("log", [b"b", b"c"], 600, 100) == 3
    assert store.items("log") == [b"a", b"b", b"c"]


def test_a_list_keeps_its_last_items(store: Store) -> None:
    for value in (b"1", b"2", b"3", b"4"):
        store.append("log", [value], 600, 3)
    assert store.items("log") == [b"2", b"3", b"4"]
    assert store.append("log", [b"5", b"6", b"7", b"8", b"9"], 600, 3) == 3
    assert store.items("log") == [b"7", b"8", b"9"]


def test_values_are_arbitrary_bytes(store: Store) -> None:
    store.append("log", [b"", ODD_BYTES, b"\x00"], None, 10)
    assert store.items("log") == [b"", ODD_BYTES, b"\x00"]


def test_appending_nothing_keeps_the_list(store: Store) -> None:
    store.append("log", [b"a", b"b"], 600, 10)
    assert store.append("log", [], 600, 10) == 2
    assert store.items("log") == [b"a", b"b"]


def test_a_list_vanishes_after_its_ttl_and_each_append_renews_it(store: Store) -> None:
    store.append("short", [b"a"], SHORT, 10)
    store.append("renewed", [b"a"], SHORT, 10)
    store.append("renewed", [b"b"], 600, 10)
    assert eventually(lambda: store.items("short") == [])
    assert store.items("renewed") == [b"a", b"b"]


def test_an_expired_list_starts_afresh(store: Store) -> None:
    store.append("log", [b"old"], SHORT, 10)
    assert eventually(lambda: store.items("log") == [])
    assert store.append("log", [b"new"], 600, 10) == 1
    assert store.items("log") == [b"new"]


def test_expire_and_delete_work_on_lists(store: Store) -> None:
    store.append("log", [b"a"], None, 10)
    store.append("gone", [b"a"], None, 10)
    store.expire("log", SHORT)
    store.delete("gone")
    assert store.items("gone") == []
    assert eventually(lambda: store.items("log") == [])


@pytest.mark.parametrize("keep", [0, -1, True, 1.5])
def test_keep_is_a_positive_int(store: Store, keep: object) -> None:
    with pytest.raises(ValueError, match="positive number of items"):
        store.append("log", [b"a"], 600, keep)  # type: ignore[arg-type]


def test_lists_are_shared_by_two_stores_on_one_url(shared_url: str) -> None:
    from flask_vapi.store import open_store

    first, second = open_store(shared_url), open_store(shared_url)
    try:
        first.append("log", [b"a"], 600, 10)
        second.append("log", [b"b"], 600, 10)
        assert first.items("log") == second.items("log") == [b"a", b"b"]
    finally:
        first.close()
        second.close()
