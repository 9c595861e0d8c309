"""Concurrency in one process, on every back end: add is a claim, update and append lose nothing."""

from __future__ import annotations

import json
import threading
from typing import Callable

from flask_vapi.store import Store

THREADS = 20


def race(target: Callable[[int], object]) -> list[object]:
    """Run ``target(i)`` in THREADS threads released at once; their results, in order."""
    barrier = threading.Barrier(THREADS)
    results: list[object] = [None] * THREADS
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except BaseException as exc:  # reported below, not lost in a thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    assert not errors, errors
    return results


def increment(old: bytes | None) -> bytes:
    """The JSON counter in ``old`` plus one."""
    count = json.loads(old)["count"] if old is not None else 0
    return json.dumps({"count": count + 1}).encode()


def test_exactly_one_of_concurrent_adds_wins(store: Store) -> None:
    results = race(lambda i: store.add("claim", str(i).encode(), 60))
    assert results.count(True) == 1
    assert results.count(False) == THREADS - 1
    winner = results.index(True)
    assert store.get("claim") == str(winner).encode()


def test_concurrent_updates_lose_nothing(store: Store) -> None:
    results = race(lambda i: store.update("counter", increment, 60))
    assert json.loads(store.get("counter") or b"null") == {"count": THREADS}
    counts = sorted(json.loads(result)["count"] for result in results)  # type: ignore[arg-type]
    assert counts == list(range(1, THREADS + 1))


def test_concurrent_appends_lose_nothing(store: Store) -> None:
    lengths = race(lambda i: store.append("log", [b"%d-a" % i, b"%d-b" % i], 60, 1000))
    items = store.items("log")
    assert sorted(lengths) == list(range(2, 2 * THREADS + 1, 2))  # type: ignore[type-var]
    assert sorted(items) == sorted(b"%d-%s" % (i, p) for i in range(THREADS) for p in (b"a", b"b"))
    for i in range(0, len(items), 2):  # whole calls interleave
        assert items[i + 1] == items[i][:-1] + b"b"
