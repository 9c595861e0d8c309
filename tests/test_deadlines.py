"""Budgets: a handler past its deadline is answered with the fallback; its outcome comes late."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from flask import Flask, g, request

from flask_vapi import (
    ToolError,
    ToolResult,
    VapiBlueprint,
    current_message,
    current_tool_call,
    errors,
    signals,
)
from flask_vapi.payloads import make_assistant_request, make_function_call, make_tool_calls

from .conftest import Recorder

#: How long a test waits for something that happens at once on any machine.
PATIENCE = 10.0
ASSISTANT_FALLBACK = {"error": "Sorry, we can't take your call right now. Please try again later."}


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set to let blocked handlers finish (always set at teardown: no thread is left waiting)."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def late(vapi: VapiBlueprint) -> Iterator[list[dict[str, Any]]]:
    """Every ``late_result`` of this test's blueprint (an earlier test's may still arrive)."""
    arrived: list[dict[str, Any]] = []

    def receiver(sender: Any, **extra: Any) -> None:
        if extra["blueprint"] is vapi:
            arrived.append(extra)

    signals.late_result.connect(receiver)
    yield arrived
    signals.late_result.disconnect(receiver)


def wait_for(predicate: Callable[[], bool]) -> None:
    """Until ``predicate()`` holds (bounded: fails after PATIENCE seconds)."""
    stop = time.monotonic() + PATIENCE
    while not predicate():
        assert time.monotonic() < stop, "timed out waiting"
        time.sleep(0.01)


def failures(received: Recorder, vapi: VapiBlueprint) -> list[dict[str, Any]]:
    """The ``handler_error`` signals of this test's blueprint."""
    return [extra for extra in received.of("handler_error") if extra["blueprint"] is vapi]


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    found: list[dict[str, Any]] = response.get_json()["results"]
    return found


def test_a_tool_past_its_budget_gets_the_timeout_error_and_its_result_comes_late(
    vapi: VapiBlueprint,
    make_app: Callable[..., Flask],
    release: threading.Event,
    late: list[dict[str, Any]],
    received: Recorder,
) -> None:
    @vapi.tool
    def slow(order: str) -> str:
        release.wait(PATIENCE)
        return f"order {order} ships"

    app = make_app(vapi, VAPI_DEADLINES={"tool-calls": 0.2})
    message = make_tool_calls(("slow", {"order": "42"}, "call_slow"))
    answer = results(
        app.test_client().post(
            "/vapi/webhook",
            json={"message": message},
            headers={"X-Vapi-Secret": app.config["VAPI_SECRET"]},
        )
    )
    assert answer == [
        {
            "toolCallId": "call_slow",
            "name": "slow",
            "error": "The tool 'slow' did not finish in time.",
        }
    ]
    (error,) = failures(received, vapi)
    assert isinstance(error["exception"], errors.DeadlineExceeded)
    assert (error["exception"].tool, error["exception"].budget) == ("slow", 0.2)
    assert error["handler"] is slow
    assert late == []  # still running
    release.set()
    wait_for(lambda: len(late) == 1)
    (outcome,) = late
    assert outcome["value"] == "order 42 ships"
    assert outcome["exception"] is None
    assert outcome["entry"] == {"result": "order 42 ships"}
    assert outcome["tool_call"].id == "call_slow"
    assert outcome["handler"] is slow
    assert outcome["message"].type == "tool-calls"


@pytest.fixture
def send(make_app: Callable[..., Flask]) -> Callable[..., Any]:
    def post(vapi: VapiBlueprint, message: dict[str, Any], **config: Any) -> Any:
        app = make_app(vapi, **config)
        secret = app.config["VAPI_SECRET"]
        return app.test_client().post(
            "/vapi/webhook", json={"message": message}, headers={"X-Vapi-Secret": secret}
        )

    return post


def test_the_other_calls_of_the_message_keep_their_real_results(
    vapi: VapiBlueprint, send: Callable[..., Any], release: threading.Event
) -> None:
    @vapi.tool
    def slow() -> str:
        release.wait(PATIENCE)
        return "late"

    @vapi.tool
    def fast(n: int) -> int:
        return n * 2

    message = make_tool_calls(("fast", {"n": 1}, "a"), ("slow", {}, "b"), ("fast", {"n": 4}, "c"))
    answer = results(send(vapi, message, VAPI_DEADLINES={"tool-calls": 0.2}))
    assert answer == [
        {"toolCallId": "a", "name": "fast", "result": "2"},
        {"toolCallId": "b", "name": "slow", "error": "The tool 'slow' did not finish in time."},
        {"toolCallId": "c", "name": "fast", "result": "8"},
    ]


def test_calls_of_one_message_run_side_by_side(
    vapi: VapiBlueprint, send: Callable[..., Any]
) -> None:
    # Each waits for the other: run one after the other, both would time out.
    barrier = threading.Barrier(2, timeout=PATIENCE)

    @vapi.tool
    def meet(who: str) -> str:
        barrier.wait()
        return who

    message = make_tool_calls(("meet", {"who": "a"}, "1"), ("meet", {"who": "b"}, "2"))
    answer = results(send(vapi, message, VAPI_DEADLINES={"tool-calls": PATIENCE}))
    assert [entry["result"] for entry in answer] == ["a", "b"]


@pytest.mark.parametrize(
    ("on_timeout", "expected"),
    [
        ("Still searching, one moment.", {"result": "Still searching, one moment."}),
        (
            ToolResult(result="pending", message="One moment."),
            {
                "result": "pending",
                "message": {"type": "request-complete", "content": "One moment."},
            },
        ),
        (ToolResult(error="Too slow."), {"error": "Too slow."}),
    ],
)
def test_on_timeout_replaces_the_timeout_answer(
    vapi: VapiBlueprint,
    send: Callable[..., Any],
    release: threading.Event,
    on_timeout: Any,
    expected: dict[str, Any],
) -> None:
    @vapi.tool("search", timeout=0.2, on_timeout=on_timeout)
    def search() -> str:
        release.wait(PATIENCE)
        return "found"

    (entry,) = results(send(vapi, make_tool_calls(("search", {}, "s"))))
    assert entry == {"toolCallId": "s", "name": "search", **expected}


def test_a_tool_timeout_is_its_own_budget_within_the_default(
    vapi: VapiBlueprint, send: Callable[..., Any], release: threading.Event, received: Recorder
) -> None:
    @vapi.tool(timeout=0.2)
    def lookup() -> str:
        release.wait(PATIENCE)
        return "x"

    (entry,) = results(send(vapi, make_tool_calls(("lookup", {}, "l"))))  # default budget 18 s
    assert entry["error"] == "The tool 'lookup' did not finish in time."
    assert failures(received, vapi)[0]["exception"].budget == 0.2


def test_the_type_budget_caps_a_longer_tool_timeout(
    vapi: VapiBlueprint, send: Callable[..., Any], release: threading.Event, received: Recorder
) -> None:
    @vapi.tool(timeout=PATIENCE)
    def lookup() -> str:
        release.wait(PATIENCE)
        return "x"

    (entry,) = results(
        send(vapi, make_tool_calls(("lookup", {}, "l")), VAPI_DEADLINES={"tool-calls": 0.2})
    )
    assert entry["error"] == "The tool 'lookup' did not finish in time."
    assert failures(received, vapi)[0]["exception"].budget == 0.2


def test_a_late_failure_is_logged_signalled_and_sent_late(
    vapi: VapiBlueprint,
    send: Callable[..., Any],
    release: threading.Event,
    late: list[dict[str, Any]],
    received: Recorder,
) -> None:
    @vapi.tool
    def broken() -> str:
        release.wait(PATIENCE)
        raise LookupError("no such order")

    results(send(vapi, make_tool_calls(("broken", {}, "b")), VAPI_DEADLINES={"tool-calls": 0.2}))
    release.set()
    wait_for(lambda: len(late) == 1)
    assert isinstance(late[0]["exception"], LookupError)
    assert late[0]["value"] is None
    assert late[0]["entry"] == {"error": "The tool 'broken' failed with an internal error."}
    failed = [extra["exception"] for extra in failures(received, vapi)]
    assert [type(exc) for exc in failed] == [errors.DeadlineExceeded, LookupError]


def test_a_late_tool_error_is_the_entry_of_the_late_result(
    vapi: VapiBlueprint, send: Callable[..., Any], release: threading.Event, late: list[Any]
) -> None:
    @vapi.tool
    def refuse() -> str:
        release.wait(PATIENCE)
        raise ToolError("Order not found.")

    results(send(vapi, make_tool_calls(("refuse", {}, "r")), VAPI_DEADLINES={"tool-calls": 0.2}))
    release.set()
    wait_for(lambda: len(late) == 1)
    assert late[0]["entry"] == {"error": "Order not found."}


def test_an_async_tool_past_its_budget(
    vapi: VapiBlueprint, send: Callable[..., Any], late: list[Any]
) -> None:
    @vapi.tool
    async def sleepy() -> str:
        await asyncio.sleep(0.6)
        return "awake"

    (entry,) = results(
        send(vapi, make_tool_calls(("sleepy", {}, "z")), VAPI_DEADLINES={"tool-calls": 0.2})
    )
    assert entry["error"] == "The tool 'sleepy' did not finish in time."
    wait_for(lambda: len(late) == 1)
    assert late[0]["value"] == "awake"


def test_a_slow_responder_gets_the_fallback_and_its_answer_comes_late(
    vapi: VapiBlueprint,
    send: Callable[..., Any],
    release: threading.Event,
    late: list[dict[str, Any]],
    received: Recorder,
) -> None:
    @vapi.assistant_request
    def choose(message: Any) -> dict[str, Any]:
        release.wait(PATIENCE)
        return {"assistantId": "late-assistant"}

    response = send(vapi, make_assistant_request(), VAPI_DEADLINES={"assistant-request": 0.2})
    assert response.status_code == 200
    assert response.get_json() == ASSISTANT_FALLBACK
    (error,) = failures(received, vapi)
    assert isinstance(error["exception"], errors.DeadlineExceeded)
    assert error["exception"].message_type == "assistant-request"
    assert error["exception"].tool is None
    release.set()
    wait_for(lambda: len(late) == 1)
    assert late[0]["value"] == {"assistantId": "late-assistant"}
    assert late[0]["tool_call"] is None
    assert late[0]["handler"] is choose


def test_an_async_responder_past_its_budget_gets_the_fallback_and_answers_late(
    vapi: VapiBlueprint, send: Callable[..., Any], late: list[dict[str, Any]], caplog: Any
) -> None:
    @vapi.assistant_request
    async def choose(message: Any) -> dict[str, Any]:
        await asyncio.sleep(0.6)
        return {"assistantId": "late-async-assistant"}

    with caplog.at_level("ERROR", logger="flask_vapi"):
        response = send(vapi, make_assistant_request(), VAPI_DEADLINES={"assistant-request": 0.2})
    assert response.get_json() == ASSISTANT_FALLBACK
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("Vapi 'assistant-request' handler ")
    assert "choose failed: DeadlineExceeded: " in line
    wait_for(lambda: len(late) == 1)
    assert late[0]["value"] == {"assistantId": "late-async-assistant"}


def test_a_configured_fallback_is_the_timeout_answer(
    vapi: VapiBlueprint, send: Callable[..., Any], release: threading.Event
) -> None:
    vapi.assistant_request(lambda message: release.wait(PATIENCE) and {"assistantId": "a"})
    fallback = {"assistantId": "backup-assistant"}
    response = send(
        vapi,
        make_assistant_request(),
        VAPI_DEADLINES={"assistant-request": 0.2},
        VAPI_FALLBACK_RESPONSES={"assistant-request": fallback},
    )
    assert response.get_json() == fallback


def test_budgets_count_from_when_the_request_arrived(
    vapi: VapiBlueprint, make_app: Callable[..., Flask]
) -> None:
    @vapi.tool
    def quick() -> str:
        time.sleep(0.3)
        return "done"

    app = make_app(vapi, VAPI_DEADLINES={"tool-calls": 1.0})
    with app.app_context():
        settings = vapi.settings_for(app)
        body = {"message": make_tool_calls(("quick", {}))}
        in_time = vapi.dispatcher.receive(app, body, settings)
        # Another call, as if reading and checking the request had taken 0.9 s of the 1 s.
        body = {"message": make_tool_calls(("quick", {}))}
        late_start = vapi.dispatcher.receive(app, body, settings, time.monotonic() - 0.9)
    assert b'"result":"done"' in in_time.body  # type: ignore[operator]
    assert b"did not finish in time" in late_start.body  # type: ignore[operator]


def test_a_full_pool_answers_the_fallback_at_once(
    vapi: VapiBlueprint,
    make_app: Callable[..., Flask],
    release: threading.Event,
    received: Recorder,
) -> None:
    started = threading.Event()

    @vapi.tool
    def hold() -> str:
        started.set()
        release.wait(PATIENCE)
        return "held"

    @vapi.assistant_request
    def choose(message: Any) -> dict[str, Any]:
        return {"assistantId": "never"}

    app = make_app(vapi, VAPI_MAX_WORKERS=1, VAPI_DEADLINES={"tool-calls": 0.2})
    client, headers = app.test_client(), {"X-Vapi-Secret": app.config["VAPI_SECRET"]}
    first = client.post(
        "/vapi/webhook", json={"message": make_tool_calls(("hold", {}, "1"))}, headers=headers
    )
    assert started.is_set() and "did not finish" in results(first)[0]["error"]
    # The one thread still holds: nothing else may wait for it.
    second = client.post(
        "/vapi/webhook", json={"message": make_tool_calls(("hold", {}, "2"))}, headers=headers
    )
    assert results(second)[0]["error"] == "The tool 'hold' is busy; try again in a moment."
    third = client.post(
        "/vapi/webhook", json={"message": make_assistant_request()}, headers=headers
    )
    assert third.get_json() == ASSISTANT_FALLBACK
    exhausted = [e["exception"] for e in failures(received, vapi)][1:]
    assert [type(exc) for exc in exhausted] == [errors.PoolExhausted, errors.PoolExhausted]
    release.set()


def test_a_thousand_timed_out_calls_leave_at_most_the_pools_threads(
    vapi: VapiBlueprint, make_app: Callable[..., Flask], release: threading.Event
) -> None:
    @vapi.tool
    def stuck() -> str:
        release.wait(PATIENCE)
        return "x"

    app = make_app(vapi, VAPI_MAX_WORKERS=4, VAPI_DEADLINES={"tool-calls": 0.001})
    client, headers = app.test_client(), {"X-Vapi-Secret": app.config["VAPI_SECRET"]}
    body = {"message": make_tool_calls(("stuck", {}, "s"))}
    before = {t.ident for t in threading.enumerate()}
    for _ in range(1000):
        entry = results(client.post("/vapi/webhook", json=body, headers=headers))[0]
        assert entry["error"] in (
            "The tool 'stuck' did not finish in time.",
            "The tool 'stuck' is busy; try again in a moment.",
        )
    new = [t for t in threading.enumerate() if t.ident not in before]
    assert 1 <= len(new) <= 4
    release.set()
    wait_for(lambda: all(not t.is_alive() or "flask-vapi" in t.name for t in new))


def test_without_a_budget_a_handler_runs_on_the_request_thread(
    vapi: VapiBlueprint, send: Callable[..., Any]
) -> None:
    seen = []

    @vapi.tool
    def where() -> str:
        seen.append(threading.get_ident())
        return "here"

    (entry,) = results(
        send(vapi, make_tool_calls(("where", {}, "w")), VAPI_DEADLINES={"tool-calls": None})
    )
    assert entry["result"] == "here" and seen == [threading.get_ident()]


def test_a_handler_on_the_pool_sees_the_message_call_request_and_a_fresh_g(
    vapi: VapiBlueprint, make_app: Callable[..., Flask]
) -> None:
    seen: dict[str, Any] = {}

    @vapi.tool
    def inspect_context() -> str:
        seen.update(
            thread=threading.get_ident(),
            message=current_message.type,
            call=current_tool_call.id,
            path=request.path,
            g=dict(vars(g)),
        )
        return "ok"

    app = make_app(vapi)

    @app.before_request
    def mark() -> None:
        g.user = "set by before_request"

    secret = app.config["VAPI_SECRET"]
    body = {"message": make_tool_calls(("inspect_context", {}, "ctx"))}
    response = app.test_client().post("/vapi/webhook", json=body, headers={"X-Vapi-Secret": secret})
    assert results(response)[0]["result"] == "ok"
    assert seen["thread"] != threading.get_ident()
    assert (seen["message"], seen["call"], seen["path"]) == ("tool-calls", "ctx", "/vapi/webhook")
    assert seen["g"] == {}  # its own app context, as flask.copy_current_request_context


def test_legacy_function_call_past_its_budget(
    vapi: VapiBlueprint, send: Callable[..., Any], release: threading.Event
) -> None:
    @vapi.tool
    def slow() -> str:
        release.wait(PATIENCE)
        return "x"

    response = send(
        vapi, make_function_call(name="slow", parameters={}), VAPI_DEADLINES={"function-call": 0.2}
    )
    assert response.get_json() == {"error": "The tool 'slow' did not finish in time."}


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux only: CPU affinity")
def test_a_waited_for_handler_shares_the_request_cpu_and_a_late_one_is_let_go(
    vapi: VapiBlueprint, send: Callable[..., Any], release: threading.Event, late: list[Any]
) -> None:
    allowed = os.sched_getaffinity(0)
    seen: dict[str, Any] = {}

    @vapi.tool
    def quick() -> str:
        seen["quick"] = os.sched_getaffinity(0)
        return "ok"

    @vapi.tool
    def slow() -> str:
        seen["before"] = os.sched_getaffinity(0)
        release.wait(PATIENCE)
        seen["after"] = os.sched_getaffinity(0)
        return "late"

    results(send(vapi, make_tool_calls(("quick", {})), VAPI_DEADLINES={"tool-calls": PATIENCE}))
    results(send(vapi, make_tool_calls(("slow", {})), VAPI_DEADLINES={"tool-calls": 0.2}))
    release.set()
    wait_for(lambda: len(late) == 1)
    if len(allowed) > 1:  # pinned to one CPU while the request waited
        assert len(seen["quick"]) == 1 and len(seen["before"]) == 1
    assert seen["after"] == allowed  # free again once the request stopped waiting


def test_receivers_that_use_up_the_budget_are_said_once(
    vapi: VapiBlueprint, send: Callable[..., Any], caplog: Any
) -> None:
    vapi.tool("quick")(lambda: "done")
    vapi.on("tool-calls")(lambda message: time.sleep(0.3))
    with caplog.at_level("WARNING", logger="flask_vapi"):
        for _ in range(2):
            (entry,) = results(
                send(vapi, make_tool_calls(("quick", {})), VAPI_DEADLINES={"tool-calls": 0.2})
            )
            assert entry["error"] == "The tool 'quick' did not finish in time."
    slow = [r.getMessage() for r in caplog.records if "receivers of a Vapi" in r.getMessage()]
    assert len(slow) == 1
    assert "'tool-calls' message ran 0.3" in slow[0] and "past its 0.2 s budget" in slow[0]
    assert "background=True" in slow[0]
