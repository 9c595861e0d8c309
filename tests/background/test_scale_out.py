"""Two gunicorn instances of 2 workers on one Redis, and a Celery worker: every message sent 1-3
times, one web worker killed mid-run: each tool runs once, each background receiver runs once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.background import scaleout
from tests.background.worker import CeleryWorker

TOOL_MESSAGES, STATUS_MESSAGES, CLIENTS = 40, 20, 16


def test_two_instances_on_one_redis_run_everything_exactly_once(
    celery_worker: CeleryWorker, celery_config: dict[str, Any], output: Path
) -> None:
    run = scaleout.run(
        celery_config,
        output,
        tool_messages=TOOL_MESSAGES,
        status_messages=STATUS_MESSAGES,
        clients=CLIENTS,
    )
    assert run.errors == 0, run.table()
    assert run.deliveries > run.messages  # redeliveries were sent
    # Answers to redeliveries equal the first answer.
    assert run.differing_answers == 0, run.answers
    for call_id in run.tool_messages:  # a call in flight on the killed worker may have run
        runs = run.tool_runs[call_id]
        assert runs == 1 or (call_id in run.retried and runs <= 1), (call_id, runs)
    # Every status update reached its Celery-backed receiver once, the killed worker's too.
    assert set(run.background_runs.values()) == {1}, (run.background_runs, run.table())
    print("\n" + run.table())
