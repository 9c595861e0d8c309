"""The example app on Redis and Celery: two settings and a real ``celery -A example_celery``."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from flask_vapi import payloads

ROOT = Path(__file__).parent.parent
SECRET = "example-celery-secret"
PATIENCE = 60.0  # seconds: a bound on a hang, not a speed claim


@pytest.fixture
def scale_out(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The two settings (and this test's own clinic file and secret), in the environment."""
    settings = {
        "VAPI_STORE_URL": f"{redis_url.rsplit('/', 1)[0]}/5",
        "VAPI_BACKGROUND": "celery",
        "CLINIC_DATABASE": str(tmp_path / "clinic.sqlite3"),
        "VAPI_SECRET": SECRET,
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    return settings


@pytest.fixture
def worker(scale_out: dict[str, str], tmp_path: Path) -> Iterator[Path]:
    """The example's worker, as its docstring starts it; stopped by its pid."""
    log = tmp_path / "worker.log"
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, PYTHONPATH=path)
    argv = [sys.executable, "-m", "celery", "-A", "example_celery", "worker", "--pool=threads"]
    argv += ["--concurrency=1", "--loglevel=INFO"]
    argv += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    try:
        yield log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)


def stored_calls(database: str) -> list[tuple[Any, ...]]:
    if not Path(database).exists():
        return []
    with closing(sqlite3.connect(database)) as db:
        return db.execute("SELECT call_id, status, ended_reason FROM calls").fetchall()


def test_two_settings_move_the_example_app_to_redis_and_celery(
    scale_out: dict[str, str], worker: Path
) -> None:
    from example_app import create_app

    app = create_app()
    assert app.config["VAPI_BACKGROUND"] == "celery" and "celery" in app.extensions
    report = payloads.make_end_of_call_report(ended_reason="customer-ended-call")
    response = app.test_client().post(
        "/vapi/webhook", json={"message": report}, headers={"X-Vapi-Secret": SECRET}
    )
    assert response.status_code == 200 and response.get_json() == {}
    deadline = time.monotonic() + PATIENCE
    while not stored_calls(scale_out["CLINIC_DATABASE"]):
        assert time.monotonic() < deadline, worker.read_text(errors="replace")
        time.sleep(0.1)
    assert stored_calls(scale_out["CLINIC_DATABASE"]) == [
        (payloads.CALL_ID, "ended", "customer-ended-call")
    ]
    # The worker stored it (the web side only handed it over).
    deadline = time.monotonic() + PATIENCE
    while "succeeded" not in worker.read_text(errors="replace"):
        assert time.monotonic() < deadline, worker.read_text(errors="replace")
        time.sleep(0.1)
    app.extensions["celery"].close()


def test_the_worker_without_the_settings_says_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("VAPI_BACKGROUND", "VAPI_STORE_URL")}
    env["CLINIC_DATABASE"] = str(tmp_path / "clinic.sqlite3")
    done = subprocess.run(
        [sys.executable, "-c", "import example_celery"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "set VAPI_BACKGROUND=celery and VAPI_STORE_URL=redis://" in done.stderr
