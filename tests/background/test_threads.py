"""Thread mode: receivers run on a bounded in-process pool, after the webhook answered."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from flask import Flask, g, has_request_context

from flask_vapi import VapiBlueprint, current_message
from flask_vapi.background.receivers import (
    BackgroundReceiver,
    ThreadRunner,
    register,
)
from flask_vapi.models.messages import EndOfCallReport, Message
from flask_vapi.payloads import make_end_of_call_report
from tests.background.worker import wait_until
from tests.conftest import HEADERS

WAIT = 30.0  # bounds a hang; no test measures time
SCRIPTS = Path(__file__).parent / "scripts"


@pytest.fixture
def failures() -> list[tuple[Flask, Message, BaseException, Any]]:
    return []


@pytest.fixture
def runner(failures: list[Any]) -> Iterator[ThreadRunner]:
    made = ThreadRunner(max_workers=2, queue_size=100, on_error=lambda *args: failures.append(args))
    try:
        yield made
    finally:
        made.shutdown(WAIT)


@pytest.fixture
def report() -> Message:
    return EndOfCallReport.load(make_end_of_call_report())


def background(vapi: VapiBlueprint, func: Callable[[Message], Any]) -> BackgroundReceiver:
    return register(vapi, func, ["end-of-call-report"])


def submit(
    runner: ThreadRunner, app: Flask, message: Message, receiver: BackgroundReceiver
) -> None:
    runner.submit(app, message, receiver, key="msg:test", raw={})


def test_the_webhook_answers_before_a_slow_receiver_finishes(
    make_app: Callable[..., Flask], vapi: VapiBlueprint, runner: ThreadRunner
) -> None:
    release, finished = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def slow(message: Message) -> None:
        seen["thread"] = threading.get_ident()
        release.wait(WAIT)
        finished.set()

    receiver = background(vapi, slow)

    @vapi.on("end-of-call-report")
    def hand_off(message: Message) -> None:
        # What dispatch will do for background receivers (VAPI_BACKGROUND = "thread").
        seen["request_thread"] = threading.get_ident()
        submit(runner, app, message, receiver)

    app = make_app(vapi)
    response = app.test_client().post(
        "/vapi/webhook", json={"message": make_end_of_call_report()}, headers=HEADERS
    )
    assert (response.status_code, response.get_json()) == (200, {})
    assert not finished.is_set()  # answered while the receiver still waits
    release.set()
    assert finished.wait(WAIT)
    assert seen["thread"] != seen["request_thread"]


def test_the_receiver_runs_off_the_submitting_thread_in_its_own_app_context(
    app: Flask, vapi: VapiBlueprint, runner: ThreadRunner, report: Message
) -> None:
    done = threading.Event()
    seen: dict[str, Any] = {}

    def receiver(message: Message) -> None:
        seen.update(
            thread=threading.get_ident(),
            message=message,
            current=current_message._get_current_object(),  # type: ignore[attr-defined]
            request=has_request_context(),
            g=dict(vars(g)),
        )
        g.leak = "from this job"
        done.set()

    with app.test_request_context():
        g.request_value = "the request's"
        submit(runner, app, report, background(vapi, receiver))
        assert done.wait(WAIT)
    assert seen["thread"] != threading.get_ident()
    assert seen["message"] is report is seen["current"]
    assert seen["request"] is False  # the request is over by the time it runs
    assert seen["g"] == {}  # g starts empty: an app context of its own


def test_an_async_receiver_runs(
    app: Flask, vapi: VapiBlueprint, runner: ThreadRunner, report: Message
) -> None:
    done = threading.Event()
    seen: dict[str, Any] = {}

    async def receiver(message: Message) -> None:
        seen["current"] = current_message._get_current_object()  # type: ignore[attr-defined]
        done.set()

    submit(runner, app, report, background(vapi, receiver))
    assert done.wait(WAIT)
    assert seen["current"] is report


def test_failures_go_to_on_error_and_the_pool_goes_on(
    app: Flask, vapi: VapiBlueprint, runner: ThreadRunner, report: Message, failures: list[Any]
) -> None:
    error = ValueError("the CRM is down")
    done = threading.Event()

    def fails(message: Message) -> None:
        raise error

    def exits(message: Message) -> None:
        raise SystemExit(3)

    def after(message: Message) -> None:
        done.set()

    for func in (fails, exits, after):
        submit(runner, app, report, background(vapi, func))
    assert done.wait(WAIT)
    assert runner.drain(WAIT)
    assert [(a, m, type(e), r) for a, m, e, r in failures] == [
        (app, report, ValueError, fails),
        (app, report, SystemExit, exits),
    ]
    assert failures[0][2] is error


def test_an_on_error_that_raises_is_logged_and_the_pool_goes_on(
    app: Flask, vapi: VapiBlueprint, report: Message, caplog: pytest.LogCaptureFixture
) -> None:
    def on_error(*args: Any) -> None:
        raise KeyError("on_error is broken")

    runner = ThreadRunner(max_workers=1, on_error=on_error)
    done = threading.Event()

    def fails(message: Message) -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="flask_vapi"):
        submit(runner, app, report, background(vapi, fails))
        submit(runner, app, report, background(vapi, lambda message: done.set()))
        assert done.wait(WAIT)
        runner.shutdown(WAIT)
    assert caplog.messages == [
        "The on_error callback of background receivers failed: KeyError: 'on_error is broken'"
    ]


def test_the_default_on_error_logs_the_failure(
    app: Flask, vapi: VapiBlueprint, report: Message, caplog: pytest.LogCaptureFixture
) -> None:
    runner = ThreadRunner()

    def sync_crm(message: Message) -> None:
        raise RuntimeError("boom")

    submit(runner, app, report, background(vapi, sync_crm))
    with caplog.at_level(logging.ERROR, logger="flask_vapi"):
        runner.shutdown(WAIT)
    assert [record.getMessage() for record in caplog.records] == [
        "Vapi 'end-of-call-report' background receiver "
        "test_the_default_on_error_logs_the_failure.<locals>.sync_crm failed: "
        "RuntimeError: boom"
    ]


def test_the_pool_never_holds_more_than_max_workers_threads(
    app: Flask, vapi: VapiBlueprint, runner: ThreadRunner, report: Message
) -> None:
    release = threading.Event()
    threads: set[int] = set()
    lock = threading.Lock()
    ran: list[int] = []

    def job(message: Message) -> None:
        with lock:
            threads.add(threading.get_ident())
            ran.append(1)
        release.wait(WAIT)

    receiver = background(vapi, job)
    for _ in range(50):
        submit(runner, app, report, receiver)
        assert runner.threads <= 2
    assert (runner.threads, runner.pending) == (2, 50)
    wait_until(lambda: len(threads) == 2, WAIT, "both threads to take a job")
    release.set()
    assert runner.drain(WAIT)
    assert len(ran) == 50
    assert len(threads) == 2
    assert runner.threads <= 2


def test_a_full_queue_runs_the_receiver_inline_with_a_warning(
    app: Flask, vapi: VapiBlueprint, report: Message, caplog: pytest.LogCaptureFixture
) -> None:
    runner = ThreadRunner(max_workers=1, queue_size=1)
    release, started = threading.Event(), threading.Event()
    where: list[int] = []

    def job(message: Message) -> None:
        where.append(threading.get_ident())
        started.set()
        release.wait(WAIT)

    receiver = background(vapi, job)
    submit(runner, app, report, receiver)  # runs on the one thread
    assert started.wait(WAIT)
    submit(runner, app, report, receiver)  # fills the queue
    release.set()  # the inline one must not wait
    with caplog.at_level(logging.WARNING, logger="flask_vapi"):
        submit(runner, app, report, receiver)
    assert where[-1] == threading.get_ident()
    assert "1 jobs are already queued" in caplog.text
    runner.shutdown(WAIT)
    assert len(where) == 3


def test_shutdown_waits_for_queued_jobs_and_later_ones_run_inline(
    app: Flask, vapi: VapiBlueprint, report: Message
) -> None:
    runner = ThreadRunner(max_workers=1)
    ran: list[int] = []
    release = threading.Event()

    def job(message: Message) -> None:
        release.wait(WAIT)
        ran.append(threading.get_ident())

    receiver = background(vapi, job)
    for _ in range(3):
        submit(runner, app, report, receiver)
    release.set()
    runner.shutdown(WAIT)
    assert len(ran) == 3 and threading.get_ident() not in ran
    submit(runner, app, report, receiver)
    assert ran[-1] == threading.get_ident()


def test_shutdown_that_times_out_says_what_is_lost(
    app: Flask, vapi: VapiBlueprint, report: Message, caplog: pytest.LogCaptureFixture
) -> None:
    runner = ThreadRunner(max_workers=1)
    release = threading.Event()
    receiver = background(vapi, lambda message: release.wait(WAIT))
    submit(runner, app, report, receiver)
    submit(runner, app, report, receiver)
    with caplog.at_level(logging.ERROR, logger="flask_vapi"):
        runner.shutdown(0.01)
    release.set()
    assert "1 queued and 1 running are lost" in caplog.text
    assert runner.drain(WAIT)


@pytest.mark.parametrize(("name", "value"), [("max_workers", 0), ("queue_size", True)])
def test_the_bounds_are_positive_integers(name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=name):
        ThreadRunner(**{name: value})


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    # A fresh interpreter: its exit (and its fork) must not involve pytest's own threads.
    return subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent.parent,
    )


@pytest.mark.parametrize(
    ("mode", "written"), [("sync", "the queued job ran"), ("async", "the queued async job ran")]
)
def test_the_interpreter_waits_at_exit_for_a_queued_job(
    tmp_path: Path, mode: str, written: str
) -> None:
    target = tmp_path / "written-by-the-job"
    done = run_script("exit_drain.py", str(target), mode)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "submitted\n"  # the script returned before the job ended
    assert done.stderr == ""
    assert target.read_text() == written


@pytest.mark.skipif(sys.platform == "win32", reason="os.fork() does not exist on Windows")
def test_a_forked_child_has_a_pool_of_its_own(tmp_path: Path) -> None:
    done = run_script("fork_pool.py", str(tmp_path))
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr
