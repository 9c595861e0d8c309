"""The list operations of the store contract, on every back end: append (keep, TTL) and items."""

from __future__ import annotations

import time

import pytest

from flask_vapi.store import Store, open_store
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
    store.append("log", [b"a", b"b", b"c"], 600, 10)
    assert store.append("log", [], 600, 10) == 3
    assert store.items("log") == [b"a", b"b", b"c"]
    assert store.append("log", (), 600, 2) == 2  # the new keep still applies
    assert store.items("log") == [b"b", b"c"]


def test_appending_nothing_to_an_absent_list(store: Store) -> None:
    assert store.append("log", [], 600, 10) == 0
    assert store.items("log") == []
    assert store.append("log", [b"a"], 600, 10) == 1


def test_appending_nothing_sets_the_ttl(store: Store) -> None:
    store.append("log", [b"a"], None, 10)
    store.append("log", [], SHORT, 10)
    assert eventually(lambda: store.items("log") == [])


def test_values_may_be_any_sequence(store: Store) -> None:
    assert store.append("log", (b"a", b"b"), None, 10) == 2
    assert store.append("log", [b"c"] * 3, None, 4) == 4
    assert store.items("log") == [b"b", b"c", b"c", b"c"]


def test_a_value_that_is_not_bytes_appends_nothing(store: Store) -> None:
    store.append("log", [b"a"], None, 10)
    with pytest.raises(TypeError, match="bytes"):
        store.append("log", [b"b", "text"], None, 10)  # type: ignore[list-item]
    assert store.items("log") == [b"a"]


def test_a_list_vanishes_after_its_ttl_and_each_append_renews_it(store: Store) -> None:
    store.append("short", [b"a"], SHORT, 10)
    store.append("renewed", [b"a"], SHORT, 10)
    store.append("renewed", [b"b"], 600, 10)
    assert eventually(lambda: store.items("short") == [])
    assert store.items("renewed") == [b"a", b"b"]


def test_append_without_ttl_removes_the_old_ttl(store: Store) -> None:
    store.append("log", [b"a"], SHORT, 10)
    store.append("log", [b"b"], None, 10)
    time.sleep(SHORT * 2)
    assert store.items("log") == [b"a", b"b"]


def test_an_expired_list_starts_afresh(store: Store) -> None:
    store.append("log", [b"old"], SHORT, 10)
    assert eventually(lambda: store.items("log") == [])
    assert store.append("log", [b"new"], 600, 10) == 1
    assert store.items("log") == [b"new"]
    assert store.append("log", [b"newer"], 600, 10) == 2


def test_a_deleted_list_starts_afresh(store: Store) -> None:
    store.append("log", [b"a", b"b"], 600, 10)
    store.delete("log")
    assert store.items("log") == []
    assert store.append("log", [b"c"], 600, 10) == 1
    assert store.items("log") == [b"c"]


def test_expire_and_delete_work_on_lists(store: Store) -> None:
    store.append("log", [b"a"], None, 10)
    store.append("gone", [b"a"], None, 10)
    store.expire("log", SHORT)
    store.delete("gone")
    assert store.items("gone") == []
    assert eventually(lambda: store.items("log") == [])


def test_expire_none_keeps_a_list(store: Store) -> None:
    store.append("log", [b"a"], SHORT, 10)
    store.expire("log", None)
    time.sleep(SHORT * 2)
    assert store.items("log") == [b"a"]


def test_expire_lengthens_the_ttl_of_a_list(store: Store) -> None:
    store.append("log", [b"a"], SHORT, 10)
    store.expire("log", 600)
    time.sleep(SHORT * 2)
    assert store.items("log") == [b"a"]


def test_expire_does_not_revive_an_expired_list(store: Store) -> None:
    store.append("log", [b"a"], SHORT, 10)
    assert eventually(lambda: store.items("log") == [])
    store.expire("log", 600)
    assert store.items("log") == []
    assert store.append("log", [b"b"], 600, 10) == 1


def test_long_and_unusual_keys(store: Store) -> None:
    long_key = "log:" + "é☎" * 2000
    store.append(long_key, [b"long"], None, 10)
    store.append("with spaces\nand\x00nul", [b"odd"], None, 10)
    assert store.items(long_key) == [b"long"]
    assert store.items(long_key[:-1]) == []
    assert store.items("with spaces\nand\x00nul") == [b"odd"]


@pytest.mark.parametrize("ttl", [0, -1.0])
def test_a_list_ttl_is_positive_or_none(store: Store, ttl: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        store.append("log", [b"a"], ttl, 10)
    assert store.items("log") == []


@pytest.mark.parametrize("keep", [0, -1, True, 1.5])
def test_keep_is_a_positive_int(store: Store, keep: object) -> None:
    with pytest.raises(ValueError, match="positive number of items"):
        store.append("log", [b"a"], 600, keep)  # type: ignore[arg-type]
    assert store.items("log") == []


def test_lists_are_shared_by_two_stores_on_one_url(shared_url: str) -> None:
    first, second = open_store(shared_url), open_store(shared_url)
    try:
        first.append("log", [b"a"], 600, 10)
        second.append("log", [b"b"], 600, 10)
        assert first.items("log") == second.items("log") == [b"a", b"b"]
    finally:
        first.close()
        second.close()
