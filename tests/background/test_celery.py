"""Celery mode on real parts: a Celery worker subprocess, broker, backend and store on Redis."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from flask import Flask

from flask_vapi.background.celery import DONE, claim_key, load_message
from flask_vapi.background.receivers import BackgroundReceiver
from flask_vapi.payloads import make_end_of_call_report, make_status_update
from flask_vapi.store import Store
from tests.background.apps import message_key, read_traces
from tests.background.worker import CeleryWorker, wait_until

HEADERS = {"X-Vapi-Secret": "test-secret-0123456789"}
FINAL = ("SUCCESS", "FAILURE")


def report_for(call_id: str) -> dict[str, Any]:
    message = make_end_of_call_report()
    message["call"]["id"] = call_id
    return message


def executions(worker: CeleryWorker, key: str, receiver_id: str) -> list[str]:
    """The end state of each execution of the task for (key, receiver), sorted (with two
    worker threads, a retry may end before the try that sent it is recorded)."""
    return sorted(
        task["state"]
        for task in worker.tasks()
        if task["key"] == key and task["receiver"] == receiver_id
    )


def finished(worker: CeleryWorker, key: str, receiver_id: str, count: int) -> list[str]:
    """Wait until ``count`` submissions ended (success or failure); the states so far."""

    def ended() -> list[str] | None:
        states = executions(worker, key, receiver_id)
        return states if sum(state in FINAL for state in states) >= count else None

    states: list[str] = wait_until(ended, what=f"{count} task(s) of {receiver_id} to end")
    return states


def recorded(worker: CeleryWorker, key: str, receiver_id: str, expected: list[str]) -> list[str]:
    """Wait until as many executions as ``expected`` are recorded; their sorted states."""
    states: list[str] = wait_until(
        lambda: (
            len(executions(worker, key, receiver_id)) >= len(expected)
            and executions(worker, key, receiver_id)
        ),
        what=f"{len(expected)} executions of {receiver_id}",
    )
    return states


def submit(
    app: Flask, name: str, raw: dict[str, Any], times: int = 1
) -> tuple[str, BackgroundReceiver]:
    """Submit receiver ``name`` ``times`` for ``raw``; the key and the receiver."""
    runner = app.extensions["test_runner"]
    receiver = app.extensions["test_receivers"][name]
    key = message_key(raw)
    for _ in range(times):
        runner.submit(app, load_message(raw), receiver, key=key, raw=raw)
    return key, receiver


def test_receivers_run_in_the_worker_app_after_the_webhook_answered(
    celery_worker: CeleryWorker, web_app: Flask, output: Path
) -> None:
    call_id = f"call-{uuid.uuid4().hex}"
    response = web_app.test_client().post(
        "/vapi/webhook",
        json={"message": report_for(call_id)},
        headers={**HEADERS, "X-Test-Receivers": "record,async_record"},
    )
    assert (response.status_code, response.get_json()) == (200, {})

    traces = wait_until(
        lambda: len(read_traces(output, call_id)) == 2 and read_traces(output, call_id),
        what="both receivers to run in the worker",
    )
    worker_pid = int((output / "worker-ready").read_text())
    assert {trace["kind"] for trace in traces} == {"ran", "async"}
    for trace in traces:
        assert trace["pid"] == worker_pid != os.getpid()
        # The typed message was rebuilt from the raw dict, and current_message is it.
        assert trace["model"] == "EndOfCallReport"
        assert trace["current_call"] == call_id
        # current_app is the worker's app, made by the factory (celery_init_app pattern).
        assert trace["marker"] == "worker"


def test_a_message_submitted_three_times_runs_once(
    celery_worker: CeleryWorker, web_app: Flask, output: Path
) -> None:
    call_id = f"call-{uuid.uuid4().hex}"
    raw = report_for(call_id)
    key, receiver = submit(web_app, "record", raw, times=3)
    finished(celery_worker, key, receiver.id, 3)
    assert [trace["attempt"] for trace in read_traces(output, call_id)] == [1]
    store: Store = web_app.extensions["test_store"]
    assert store.get(claim_key(key, receiver)) == DONE

    # A redelivery long after the first run still runs nothing.
    submit(web_app, "record", raw)
    finished(celery_worker, key, receiver.id, 4)
    assert len(read_traces(output, call_id)) == 1


def test_a_failing_receiver_is_retried_and_succeeds_on_the_second_try(
    celery_worker: CeleryWorker, web_app: Flask, output: Path
) -> None:
    call_id = f"call-{uuid.uuid4().hex}"
    key, receiver = submit(web_app, "flaky", report_for(call_id))
    expected = ["RETRY", "SUCCESS"]
    assert recorded(celery_worker, key, receiver.id, expected) == expected
    assert [trace["attempt"] for trace in read_traces(output, call_id)] == [1, 2]
    store: Store = web_app.extensions["test_store"]
    assert store.get(claim_key(key, receiver)) == DONE


def test_a_receiver_that_always_fails_stops_after_max_retries(
    celery_worker: CeleryWorker, web_app: Flask, output: Path
) -> None:
    call_id = f"call-{uuid.uuid4().hex}"
    key, receiver = submit(web_app, "always_fails", report_for(call_id))
    # max_retries = 2: three tries, the last one a failure.
    expected = ["FAILURE", "RETRY", "RETRY"]
    assert recorded(celery_worker, key, receiver.id, expected) == expected
    assert [trace["attempt"] for trace in read_traces(output, call_id)] == [1, 2, 3]
    store: Store = web_app.extensions["test_store"]
    assert store.get(claim_key(key, receiver)) is None  # released: a redelivery may retry
    assert "this receiver always fails" in celery_worker.output_text()


def test_a_background_receiver_registered_with_on_runs_once_in_the_worker(
    celery_worker: CeleryWorker, web_app: Flask, output: Path
) -> None:
    call_id = f"call-{uuid.uuid4().hex}"
    message = make_status_update(status="in-progress")
    message["call"]["id"] = call_id
    client = web_app.test_client()
    for _ in range(3):  # Vapi's retries of one delivery: the same bytes
        response = client.post("/vapi/webhook", json={"message": message}, headers=HEADERS)
        assert (response.status_code, response.get_json()) == (200, {})
    traces = wait_until(lambda: read_traces(output, call_id), what="the wired receiver to run")
    worker_pid = int((output / "worker-ready").read_text())
    assert [(t["kind"], t["pid"], t["model"]) for t in traces] == [
        ("wired", worker_pid, "StatusUpdate")
    ]
