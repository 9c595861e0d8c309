"""20 concurrent tool calls of one call, on two gunicorn worker processes, count to 20."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from flask_vapi.payloads import make_tool_calls

from .gunicorn import Gunicorn

CALLS = 20


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.sqlite3"
    url: str = request.getfixturevalue("redis_url")
    return f"{url}?key_prefix=state-test-{id(tmp_path)}:"


def test_concurrent_increments_across_two_processes(store_url: str) -> None:
    with Gunicorn(f"tests.state_app:create_app({store_url!r})", "sync", workers=2) as server:

        def call(index: int) -> str:
            answer = server.post(make_tool_calls(("count", {}, f"call_count_{index}")))
            assert answer.status == 200, answer
            text: str = answer.json()["results"][0]["result"]
            return text

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(call, range(CALLS)))
    counts = sorted(int(answer.split()[0]) for answer in answers)
    pids = {answer.split()[1] for answer in answers}
    assert counts == list(range(1, CALLS + 1))  # no update lost
    assert len(pids) == 2  # both processes answered
