"""``@vapi.on(..., background=True)``: the webhook answers first; the receiver runs on a pool."""

from __future__ import annotations

import threading
from typing import Any, Callable

import pytest
from flask import Flask

from flask_vapi import ConfigurationError, VapiBlueprint, current_message
from flask_vapi.payloads import make_end_of_call_report

from .conftest import SECRET

PATIENCE = 10.0


def test_the_webhook_answers_before_a_slow_background_receiver(
    vapi: VapiBlueprint, make_app: Callable[..., Flask]
) -> None:
    answered, ran = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    @vapi.on("end-of-call-report", background=True)
    def sync_crm(message: Any) -> None:
        assert answered.wait(PATIENCE)  # the answer left before this runs on
        seen.update(thread=threading.get_ident(), current=current_message.type, msg=message)
        ran.set()

    app = make_app(vapi)
    body = {"message": make_end_of_call_report()}
    response = app.test_client().post("/vapi/webhook", json=body, headers={"X-Vapi-Secret": SECRET})
    assert (response.status_code, response.get_json()) == (200, {})
    answered.set()
    assert ran.wait(PATIENCE)
    assert seen["thread"] != threading.get_ident()
    assert seen["current"] == "end-of-call-report"
    assert seen["msg"].type == "end-of-call-report"


def test_a_failing_background_receiver_is_logged_and_signalled(
    vapi: VapiBlueprint, make_app: Callable[..., Flask], received: Any
) -> None:
    done = threading.Event()

    @vapi.on("end-of-call-report", background=True)
    def broken(message: Any) -> None:
        done.set()
        raise RuntimeError("the CRM is down")

    app = make_app(vapi)
    body = {"message": make_end_of_call_report()}
    app.test_client().post("/vapi/webhook", json=body, headers={"X-Vapi-Secret": SECRET})
    assert done.wait(PATIENCE)
    runner = app.extensions["vapi_background"]["VAPI_"]
    assert runner.drain(PATIENCE)
    errors = [e for e in received.of("handler_error") if isinstance(e["exception"], RuntimeError)]
    assert [str(e["exception"]) for e in errors] == ["the CRM is down"]


def test_an_identical_redelivery_runs_the_background_receiver_once(
    vapi: VapiBlueprint, make_app: Callable[..., Flask]
) -> None:
    runs: list[str] = []

    @vapi.on("end-of-call-report", background=True)
    def store_report(message: Any) -> None:
        runs.append(message.call.id)

    app = make_app(vapi)
    body = {"message": make_end_of_call_report()}
    client = app.test_client()
    for _ in range(3):
        client.post("/vapi/webhook", json=body, headers={"X-Vapi-Secret": SECRET})
    assert app.extensions["vapi_background"]["VAPI_"].drain(PATIENCE)
    assert len(runs) == 1


def test_an_unknown_background_mode_is_refused_at_startup(
    vapi: VapiBlueprint, make_app: Callable[..., Flask]
) -> None:
    vapi.on("end-of-call-report", background=True)(lambda message: None)
    with pytest.raises(ConfigurationError, match="VAPI_BACKGROUND must be one of thread, celery"):
        make_app(vapi, VAPI_BACKGROUND="rq")


def test_celery_mode_on_a_memory_store_warns_that_workers_do_not_share_it(
    vapi: VapiBlueprint, make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    vapi.on("end-of-call-report", background=True)(lambda message: None)
    make_app(vapi, VAPI_BACKGROUND="celery", VAPI_STORE_URL="memory://")
    assert "VAPI_BACKGROUND = 'celery' with a memory:// store" in caplog.text
    assert "Set VAPI_STORE_URL to the Redis the workers share" in caplog.text
