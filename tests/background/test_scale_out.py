"""Two gunicorn instances of 2 workers on one Redis, and a Celery worker: every message sent 1-3
times, one web worker killed mid-run: each tool runs once, each background receiver runs once."""

from __future__ import annotations

import json
import os
import random
import signal
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask_vapi.payloads import make_status_update, make_tool_calls
from tests.background.apps import read_traces
from tests.background.worker import CeleryWorker, wait_until
from tests.gunicorn import Gunicorn

HEADERS = {"X-Vapi-Secret": "test-secret-0123456789", "Content-Type": "application/json"}
TOOL_MESSAGES, STATUS_MESSAGES, CLIENTS = 40, 20, 16


def test_two_instances_on_one_redis_run_everything_exactly_once(
    celery_worker: CeleryWorker, celery_config: dict[str, Any], output: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    rng = random.Random(7)
    messages: list[tuple[str, dict[str, Any]]] = []
    for index in range(TOOL_MESSAGES):
        message = make_tool_calls(("book", {"slot": str(index)}, f"tc-{run}-{index}"))
        message["call"]["id"] = f"scale-{run}-t{index}"
        messages.append((message["call"]["id"], message))
    for index in range(STATUS_MESSAGES):
        message = make_status_update(status="in-progress")
        message["call"]["id"] = f"scale-{run}-s{index}"
        messages.append((message["call"]["id"], message))
    deliveries = [item for item in messages for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)

    spec = f"tests.background.apps:create_app({ {**celery_config, 'marker': 'web'}!r})"
    with Gunicorn(spec, "sync", workers=2) as first, Gunicorn(spec, "sync", workers=2) as second:
        servers = [first, second]
        victim = first.worker_pids()[0]
        failed: set[str] = set()

        def deliver(item: tuple[int, tuple[str, dict[str, Any]]]) -> tuple[str, Any]:
            number, (call_id, message) = item
            body = json.dumps({"message": message}).encode()
            for attempt in range(3):  # as Vapi's backoffPlan would: another try elsewhere
                server = servers[(number + attempt) % 2]
                try:
                    answer = server.request("POST", "/vapi/webhook", body, HEADERS, 60.0)
                except OSError:
                    failed.add(call_id)
                    continue
                if answer.status == 200:
                    return call_id, answer.json()
                failed.add(call_id)
            raise AssertionError(f"no answer for {call_id}")

        with ThreadPoolExecutor(CLIENTS) as pool:
            pending = pool.map(deliver, enumerate(deliveries))
            time.sleep(0.3)  # mid-run
            os.kill(victim, signal.SIGKILL)
            answers = list(pending)

    by_call: dict[str, list[Any]] = {}
    for call_id, answer in answers:
        by_call.setdefault(call_id, []).append(answer)
    # Answers to redeliveries equal the first answer.
    for call_id, seen in by_call.items():
        assert all(answer == seen[0] for answer in seen), (call_id, seen)
    tools = [call_id for call_id, _ in messages[:TOOL_MESSAGES]]
    statuses = [call_id for call_id, _ in messages[TOOL_MESSAGES:]]
    executions = Counter(
        call_id
        for call_id in tools
        for trace in read_traces(output, call_id)
        if trace["kind"] == "tool"
    )
    for call_id in tools:  # a call in flight on the killed worker may have run, or not
        assert executions[call_id] == 1 or (call_id in failed and executions[call_id] <= 1)
    # Every status update reached its Celery-backed receiver once, the killed worker's too.
    wait_until(
        lambda: all(read_traces(output, call_id) for call_id in statuses),
        what="every background receiver to run",
    )
    time.sleep(1.0)  # a second run, if there were one, would have arrived by now
    runs = Counter(call_id for call_id in statuses for _ in read_traces(output, call_id))
    assert set(runs.values()) == {1}, runs
    print(
        "\n| requests | messages | duplicates injected | tool executions | background runs |"
        " requests refused or reset (retried) |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n"
        f"| {len(deliveries)} | {len(messages)} | {len(deliveries) - len(messages)} |"
        f" {sum(executions.values())} of {TOOL_MESSAGES} | {sum(runs.values())} of"
        f" {STATUS_MESSAGES} | {len(failed)} |"
    )
