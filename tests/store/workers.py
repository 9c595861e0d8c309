"""Functions run in child processes by the cross-process tests (importable under spawn)."""

from __future__ import annotations

import threading
from typing import Any

from flask_vapi.store import open_store
from tests.store.test_threads import increment


def increment_concurrently(url: str, key: str, threads: int, start: Any) -> None:
    """Open the store at ``url`` and increment the JSON counter ``key`` from ``threads``
    threads at once, after every process reached the ``start`` barrier."""
    store = open_store(url)
    start.wait(timeout=60)
    gate = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            gate.wait(timeout=60)
            store.update(key, increment, 600)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    store.close()
    if errors or any(worker.is_alive() for worker in workers):
        raise SystemExit(f"increments failed: {errors!r}")


def claim_all(url: str, keys: list[str], start: Any, results: Any) -> None:
    """Race ``add`` on every key of ``keys``; put the list of keys this process won."""
    try:
        store = open_store(url)
        start.wait(timeout=60)
        won = [key for key in keys if store.add(key, b"claimed", 600)]
        store.close()
    except BaseException as exc:  # said to the test, which would otherwise wait in vain
        results.put(f"failed: {type(exc).__name__}: {exc}")
        raise
    results.put(won)


def append_all(url: str, name: str, count: int, start: Any) -> None:
    """Append ``name``-0 ... ``name``-(count-1) to the list "log", one append each."""
    store = open_store(url)
    start.wait(timeout=60)
    for i in range(count):
        store.append("log", [f"{name}-{i}".encode()], 600, 10_000)
    store.close()
