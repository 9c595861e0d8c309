"""The scale-out run: two gunicorn instances on one Redis, a Celery worker, redeliveries, a kill.

Used by ``test_scale_out.py`` (which asserts on it) and ``benchmarks/scaleout.py`` (which
runs it larger and prints its table).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_vapi.payloads import make_status_update, make_tool_calls
from tests.background.apps import read_traces
from tests.background.worker import wait_until
from tests.gunicorn import Gunicorn

HEADERS = {"X-Vapi-Secret": "test-secret-0123456789", "Content-Type": "application/json"}
#: Tries per delivery, on the two instances in turn (as Vapi's backoffPlan would retry).
TRIES = 3


@dataclass
class ScaleOutRun:
    """What one run sent and what came of it."""

    tool_messages: list[str]
    status_messages: list[str]
    deliveries: int
    seconds: float
    #: Call id -> the answers its deliveries got (200s only).
    answers: dict[str, list[Any]] = field(default_factory=dict)
    #: Call ids with a delivery refused or reset (tried again on the other instance).
    retried: set[str] = field(default_factory=set)
    #: Deliveries with no 200 answer after every try.
    errors: int = 0
    #: Call id -> how many times its tool ran / its background receiver ran.
    tool_runs: Counter[str] = field(default_factory=Counter)
    background_runs: Counter[str] = field(default_factory=Counter)

    @property
    def messages(self) -> int:
        return len(self.tool_messages) + len(self.status_messages)

    @property
    def differing_answers(self) -> int:
        """Answers to a redelivery that differ from the first answer of its message.

        Of a message that was in flight on the killed worker, a redelivery answers the
        timeout answer while that worker's claim holds, and one that comes after the claim
        lapsed runs the tool: those timeout answers are not counted.
        """
        differing = 0
        for call_id, seen in self.answers.items():
            if call_id in self.retried:
                seen = [answer for answer in seen if not _timed_out(answer)] or seen
            differing += sum(1 for answer in seen if answer != seen[0])
        return differing

    def table(self) -> str:
        """The run as a markdown table."""
        tools, statuses = len(self.tool_messages), len(self.status_messages)
        return (
            "| requests | messages | duplicates injected | tool executions | background runs |"
            " answers differing from the first | refused or reset (retried) | errors |"
            " seconds |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            f"| {self.deliveries} | {self.messages} | {self.deliveries - self.messages} |"
            f" {sum(self.tool_runs.values())} of {tools} |"
            f" {sum(self.background_runs.values())} of {statuses} |"
            f" {self.differing_answers} | {len(self.retried)} | {self.errors} |"
            f" {self.seconds:.1f} |"
        )


def _timed_out(answer: Any) -> bool:
    results = answer.get("results") if isinstance(answer, dict) else None
    return bool(results) and all("did not finish in time" in str(r.get("error")) for r in results)


def run(
    celery_config: dict[str, Any],
    output: Path,
    *,
    tool_messages: int,
    status_messages: int,
    clients: int,
    kill_at: float | None = 0.25,
    seed: int = 7,
) -> ScaleOutRun:
    """Send ``tool_messages`` tool calls and ``status_messages`` status updates (a
    Celery-backed background receiver each), every one 1 to 3 times in a random order, from
    ``clients`` threads to two gunicorn instances of 2 sync workers each; once a
    ``kill_at`` share of the deliveries is answered, one web worker gets SIGKILL.  Waits for
    every background receiver to run."""
    tag = uuid.uuid4().hex[:8]
    rng = random.Random(seed)
    messages: list[tuple[str, dict[str, Any]]] = []
    for index in range(tool_messages):
        message = make_tool_calls(("book", {"slot": str(index)}, f"tc-{tag}-{index}"))
        message["call"]["id"] = f"scale-{tag}-t{index}"
        messages.append((message["call"]["id"], message))
    for index in range(status_messages):
        message = make_status_update(status="in-progress")
        message["call"]["id"] = f"scale-{tag}-s{index}"
        messages.append((message["call"]["id"], message))
    deliveries = [item for item in messages for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)
    result = ScaleOutRun(
        [call_id for call_id, _ in messages[:tool_messages]],
        [call_id for call_id, _ in messages[tool_messages:]],
        len(deliveries),
        0.0,
    )

    spec = f"tests.background.apps:create_app({ {**celery_config, 'marker': 'web'}!r})"
    started = time.monotonic()
    with Gunicorn(spec, "sync", workers=2) as first, Gunicorn(spec, "sync", workers=2) as second:
        servers = [first, second]
        victim = first.worker_pids()[0]
        done, lock, mid_run = [0], threading.Lock(), threading.Event()

        def count() -> None:
            with lock:
                done[0] += 1
                if kill_at is not None and done[0] >= kill_at * len(deliveries):
                    mid_run.set()

        def deliver(item: tuple[int, tuple[str, dict[str, Any]]]) -> tuple[str, Any]:
            try:
                return send(item)
            finally:
                count()

        def send(item: tuple[int, tuple[str, dict[str, Any]]]) -> tuple[str, Any]:
            number, (call_id, message) = item
            body = json.dumps({"message": message}).encode()
            for attempt in range(TRIES):
                server = servers[(number + attempt) % 2]
                try:
                    answer = server.request("POST", "/vapi/webhook", body, HEADERS, 60.0)
                except (OSError, http.client.HTTPException):  # refused, reset, cut short
                    result.retried.add(call_id)
                    continue
                if answer.status == 200:
                    return call_id, answer.json()
                result.retried.add(call_id)
            return call_id, None

        with ThreadPoolExecutor(clients) as pool:
            pending = pool.map(deliver, enumerate(deliveries))
            if kill_at is not None and mid_run.wait(120):
                os.kill(victim, signal.SIGKILL)
            for call_id, answer in pending:
                if answer is None:
                    result.errors += 1
                else:
                    result.answers.setdefault(call_id, []).append(answer)
    result.seconds = time.monotonic() - started

    for call_id in result.tool_messages:
        traces = read_traces(output, call_id)
        result.tool_runs[call_id] = sum(1 for trace in traces if trace["kind"] == "tool")
    wait_until(
        lambda: all(read_traces(output, call_id) for call_id in result.status_messages),
        what="every background receiver to run",
    )
    time.sleep(1.0)  # a second run, if there were one, would have arrived by now
    for call_id in result.status_messages:
        result.background_runs[call_id] = len(read_traces(output, call_id))
    return result
