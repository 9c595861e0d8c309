"""Across processes (spawned, as independent as two workers), on SQLite and Redis."""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from typing import Any

from flask_vapi.store import open_store
from tests.store import workers

PROCESSES = 2
JOIN_TIMEOUT = 120.0  # seconds: a bound so that a hung child fails the test, not the run


def run_all(processes: list[Any]) -> None:
    for process in processes:
        process.start()


def join_all(processes: list[Any]) -> None:
    for process in processes:
        process.join(JOIN_TIMEOUT)
    hung = [process for process in processes if process.is_alive()]
    for process in hung:
        process.kill()
        process.join(JOIN_TIMEOUT)
    assert not hung, "a child process did not finish"
    assert [process.exitcode for process in processes] == [0] * len(processes)


def test_concurrent_updates_from_two_processes_lose_nothing(shared_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(PROCESSES)
    processes = [
        ctx.Process(target=workers.increment_concurrently, args=(shared_url, "counter", 10, start))
        for _ in range(PROCESSES)
    ]
    run_all(processes)
    join_all(processes)
    store = open_store(shared_url)
    try:
        assert json.loads(store.get("counter") or b"null") == {"count": PROCESSES * 10}
    finally:
        store.close()


def test_two_processes_racing_add_win_each_key_once(shared_url: str) -> None:
    keys = [f"message:{i}" for i in range(50)]
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=workers.claim_all, args=(shared_url, keys, start, results))
        for _ in range(PROCESSES)
    ]
    run_all(processes)
    won = [results.get(timeout=JOIN_TIMEOUT) for _ in processes]
    assert not [wins for wins in won if isinstance(wins, str)], won  # a child's failure
    join_all(processes)
    assert Counter(key for wins in won for key in wins) == Counter(keys)


def test_two_processes_appending_to_one_list_lose_nothing(shared_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(PROCESSES)
    names = [f"p{i}" for i in range(PROCESSES)]
    processes = [
        ctx.Process(target=workers.append_all, args=(shared_url, name, 50, start)) for name in names
    ]
    run_all(processes)
    join_all(processes)
    store = open_store(shared_url)
    try:
        items = [item.decode() for item in store.items("log")]
    finally:
        store.close()
    assert len(items) == 50 * PROCESSES
    for name in names:  # each process's items, in its own order
        assert [item for item in items if item.startswith(name + "-")] == [
            f"{name}-{i}" for i in range(50)
        ]
