"""Deadlines under a real gunicorn (sync, gthread, gevent): JSON fallbacks in time, no 5xx."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest

from flask_vapi.testing import make_assistant_request, make_tool_calls
from tests.deadline_app import FALLBACK, ON_TIMEOUT
from tests.gunicorn import WORKER_CLASSES, Answer, Gunicorn

#: Vapi's and flask-vapi's documented answers (README "Deadlines"; catalogue's fallback).
ASSISTANT_FALLBACK = {"error": "Sorry, we can't take your call right now. Please try again later."}
REQUESTS = 6  # of each kind, per worker class
CONCURRENCY = 3
SETTLE_SECONDS = 60.0  # the most a late handler may take to report (a bound, not a measure)


def timed_out(name: str) -> str:
    return f"The tool {name!r} did not finish in time."


def start(app: str, worker_class: str, timeout: int = 30) -> Gunicorn:
    return Gunicorn(app, worker_class, workers=1, threads=4, timeout=timeout)


@pytest.fixture(scope="module", params=WORKER_CLASSES)
def server(request: pytest.FixtureRequest) -> Iterator[Gunicorn]:
    """One gunicorn per worker class, budgets 0.3 s, handlers sleeping 1.0 s."""
    with start("tests.deadline_app:create_app()", request.param) as running:
        yield running


def concurrently(send: Callable[[int], Answer], count: int = REQUESTS) -> list[Answer]:
    """``send(0) .. send(count - 1)``, ``CONCURRENCY`` at a time; answers in that order."""
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return list(pool.map(send, range(count)))


def json_answer(answer: Answer) -> Any:
    """The body of a 200 JSON answer (never an HTML error page)."""
    assert answer.status == 200, answer
    assert answer.content_type == "application/json", answer
    return answer.json()


def tool_call(server: Gunicorn, *calls: tuple[str, dict[str, Any], str]) -> Any:
    return json_answer(server.post(make_tool_calls(*calls)))


def late_outcomes(server: Gunicorn, done: Callable[[list[dict[str, Any]]], bool]) -> Any:
    """``GET /late`` until ``done(outcomes)`` (bounded); the worker's answer."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        seen = json_answer(server.request("GET", "/late"))
        if done(seen["late"]) or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


def settle(server: Gunicorn, ids: set[str]) -> dict[str, dict[str, Any]]:
    """Wait for the late outcomes of the tool calls ``ids``; they by id."""
    seen = late_outcomes(server, lambda late: ids <= {o["id"] for o in late})
    found = {o["id"]: o for o in seen["late"] if o["id"] in ids}
    assert set(found) == ids, f"late results missing for {sorted(ids - set(found))}"
    assert seen["pid"] in server.worker_pids()
    return found


def assert_still_answers(server: Gunicorn, workers_before: list[int]) -> None:
    """The same worker answers a fast call with its real result."""
    assert tool_call(server, ("fast", {"text": "after"}, "call_after")) == {
        "results": [{"toolCallId": "call_after", "name": "fast", "result": "fast: after"}]
    }
    assert server.worker_pids() == workers_before
    assert "WORKER TIMEOUT" not in server.stderr_text()
    assert "Traceback" not in server.stderr_text()


@pytest.mark.parametrize("tool", ["slow", "slow_async"])
def test_slow_tool_answers_its_timeout_error(server: Gunicorn, tool: str) -> None:
    # Under gevent, async handlers run in native threads (one asyncio loop each).
    workers = server.worker_pids()
    ids = [f"call_{tool}_{server.worker_class}_{i}" for i in range(REQUESTS)]

    def send(i: int) -> Answer:
        return server.post(make_tool_calls((tool, {"text": str(i)}, ids[i])))

    for i, answer in enumerate(concurrently(send)):
        assert json_answer(answer) == {
            "results": [{"toolCallId": ids[i], "name": tool, "error": timed_out(tool)}]
        }
    # The worker is not wedged while the late handlers still run, nor after they finished.
    assert_still_answers(server, workers)
    late = settle(server, set(ids))
    assert {i: late[ids[i]]["value"] for i in range(REQUESTS)} == {
        i: f"{tool}: {i}" for i in range(REQUESTS)
    }
    assert {o["exception"] for o in late.values()} == {None}
    assert_still_answers(server, workers)


def test_on_timeout_replaces_the_timeout_error(server: Gunicorn) -> None:
    workers = server.worker_pids()
    call_id = f"call_polite_{server.worker_class}"
    assert tool_call(server, ("polite", {"text": "x"}, call_id)) == {
        "results": [{"toolCallId": call_id, "name": "polite", "result": ON_TIMEOUT}]
    }
    assert settle(server, {call_id})[call_id]["value"] == "polite: x"
    assert_still_answers(server, workers)


def test_other_calls_of_the_message_keep_their_results(server: Gunicorn) -> None:
    workers = server.worker_pids()
    tag = server.worker_class
    ids = [f"call_mixed_{tag}_{i}" for i in range(4)]

    def send(i: int) -> Answer:
        first, second = ids[i * 2], ids[i * 2 + 1]
        return server.post(
            make_tool_calls(("fast", {"text": str(i)}, first), ("slow", {"text": str(i)}, second))
        )

    answers = concurrently(send, 2)
    for i, answer in enumerate(answers):
        first, second = ids[i * 2], ids[i * 2 + 1]
        assert json_answer(answer) == {
            "results": [
                {"toolCallId": first, "name": "fast", "result": f"fast: {i}"},
                {"toolCallId": second, "name": "slow", "error": timed_out("slow")},
            ]
        }
    late = settle(server, {ids[1], ids[3]})
    assert [late[ids[1]]["value"], late[ids[3]]["value"]] == ["slow: 0", "slow: 1"]
    assert_still_answers(server, workers)


def test_slow_assistant_request_answers_the_fallback(server: Gunicorn) -> None:
    workers = server.worker_pids()
    before = len([o for o in late_outcomes(server, lambda late: True)["late"] if o["tool"] is None])

    def send(i: int) -> Answer:
        return server.post(make_assistant_request())

    for answer in concurrently(send):
        assert json_answer(answer) == ASSISTANT_FALLBACK
    assert_still_answers(server, workers)

    def responders(late: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [o for o in late if o["tool"] is None]

    seen = late_outcomes(server, lambda late: len(responders(late)) >= before + REQUESTS)
    outcomes = responders(seen["late"])[before:]
    assert len(outcomes) == REQUESTS
    assert all(o["type"] == "assistant-request" for o in outcomes)
    assert all(o["value"] == {"assistantId": "late-assistant"} for o in outcomes)
    assert_still_answers(server, workers)


@pytest.mark.parametrize("worker_class", WORKER_CLASSES)
def test_budget_answers_before_gunicorn_kills_the_worker(worker_class: str) -> None:
    """``--timeout 2``, handlers sleeping 4 s, budgets 1 s: JSON fallbacks, the worker lives."""
    app = (
        "tests.deadline_app:create_app("
        "sleep=4.0, tool_calls_budget=1.0, assistant_budget=1.0, fallback=True)"
    )
    with start(app, worker_class, timeout=2) as server:
        workers = server.worker_pids()
        assert tool_call(server, ("sleepy", {"text": "z"}, "call_sleepy")) == {
            "results": [
                {"toolCallId": "call_sleepy", "name": "sleepy", "error": timed_out("sleepy")}
            ]
        }
        assert json_answer(server.post(make_assistant_request())) == FALLBACK
        assert settle(server, {"call_sleepy"})["call_sleepy"]["value"] == "sleepy: z"
        seen = late_outcomes(server, lambda late: any(o["tool"] is None for o in late))
        assert [o["value"] for o in seen["late"] if o["tool"] is None] == [
            {"assistantId": "late-assistant"}
        ]
        assert_still_answers(server, workers)


@pytest.mark.parametrize("worker_class", WORKER_CLASSES)
def test_exhausted_pool_answers_at_once(worker_class: str) -> None:
    """``VAPI_MAX_WORKERS = 2``, handlers sleeping 3 s: two calls take the pool's threads,
    the next tool call and assistant-request are answered at once, without running."""
    app = "tests.deadline_app:create_app(sleep=3.0, max_workers=2)"
    with start(app, worker_class) as server:
        workers = server.worker_pids()
        for call_id in ("call_pool_a", "call_pool_b"):
            slow = {"toolCallId": call_id, "name": "slow", "error": timed_out("slow")}
            assert tool_call(server, ("slow", {}, call_id)) == {"results": [slow]}
        busy = tool_call(server, ("slow", {}, "call_pool_c"))["results"]
        assert [(e["toolCallId"], e["name"], "error" in e, "result" in e) for e in busy] == [
            ("call_pool_c", "slow", True, False)
        ]
        assert json_answer(server.post(make_assistant_request())) == ASSISTANT_FALLBACK
        seen = settle(server, {"call_pool_a", "call_pool_b"})
        assert [o["value"] for o in seen.values()] == ["slow: ", "slow: "]
        outcomes = json_answer(server.request("GET", "/late"))
        assert "call_pool_c" not in {o["id"] for o in outcomes["late"]}  # it never ran
        assert [(d["exception"], d["tool"]) for d in outcomes["deadlines"]] == [
            ("DeadlineExceeded", "slow"),
            ("DeadlineExceeded", "slow"),
            ("PoolExhausted", "slow"),
            ("PoolExhausted", None),
        ]
        assert_still_answers(server, workers)  # the fast tool gets a free thread again
