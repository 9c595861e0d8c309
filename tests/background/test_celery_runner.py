"""CeleryRunner's claims, retries and fallbacks, with Celery's eager mode and local stores.

The real worker is in test_celery.py; here each rule is driven on its own, in this process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from celery import Celery
from flask import Flask

from flask_vapi import VapiBlueprint
from flask_vapi.background.celery import (
    DONE,
    RUNNING,
    CeleryRunner,
    claim_key,
    load_message,
)
from flask_vapi.background.receivers import BackgroundReceiver, register
from flask_vapi.models.messages import EndOfCallReport, Message
from flask_vapi.payloads import make_end_of_call_report
from flask_vapi.store import StoreError
from flask_vapi.store.memory import MemoryStore
from tests.background.apps import celery_init_app
from tests.servers import free_port

WAIT = 30.0
KEY = "msg:0123abcd"
TYPES = ["end-of-call-report"]


class RecordingStore(MemoryStore):
    """A memory store that remembers the TTL of each write."""

    def __init__(self) -> None:
        super().__init__()
        self.ttls: dict[str, float | None] = {}

    def add(self, key: str, value: bytes, ttl: float | None) -> bool:
        self.ttls[key] = ttl
        return super().add(key, value, ttl)

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        self.ttls[key] = ttl
        super().set(key, value, ttl)


class BrokenStore(MemoryStore):
    """A store whose server is down."""

    def add(self, key: str, value: bytes, ttl: float | None) -> bool:
        raise StoreError("Connection refused")

    def set(self, key: str, value: bytes, ttl: float | None) -> None:
        raise StoreError("Connection refused")


class Setup:
    """A Flask app with a VapiBlueprint, an eager Celery app and a CeleryRunner."""

    def __init__(self, store: MemoryStore, celery: dict[str, Any], **runner: Any) -> None:
        self.app = Flask("eager_app")
        self.app.config.update(VAPI_SECRET="test-secret-0123456789", CELERY=celery)
        self.celery: Celery = celery_init_app(self.app)
        self.vapi = VapiBlueprint()
        self.app.register_blueprint(self.vapi)
        self.store = store
        self.failures: list[tuple[Any, ...]] = []
        self.runner = CeleryRunner(
            store, backoff=0, on_error=lambda *args: self.failures.append(args), **runner
        )
        self.runner.init_app(self.app, "vapi")
        self.raw = make_end_of_call_report()
        self.message = load_message(self.raw)

    def receiver(self, func: Callable[[Message], Any]) -> BackgroundReceiver:
        return register(self.vapi, func, TYPES)

    def submit(self, receiver: BackgroundReceiver) -> None:
        self.runner.submit(self.app, self.message, receiver, key=KEY, raw=self.raw)


EAGER = {"broker_url": "memory://", "task_always_eager": True, "task_store_eager_result": False}


def ours(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What flask_vapi logged (not Celery or kombu)."""
    return [record.getMessage() for record in caplog.records if record.name == "flask_vapi"]


@pytest.fixture
def setup() -> Iterator[Setup]:
    made = Setup(RecordingStore(), EAGER, max_retries=2)
    try:
        yield made
    finally:
        made.celery.close()


def test_a_success_is_claimed_then_marked_done_for_done_ttl(setup: Setup) -> None:
    calls: list[Message] = []
    receiver = setup.receiver(calls.append)
    setup.submit(receiver)
    claim = claim_key(KEY, receiver)
    assert claim == f"bg:vapi:msg:0123abcd:{receiver.id}"
    assert len(calls) == 1 and isinstance(calls[0], EndOfCallReport)
    assert calls[0] is not setup.message  # rebuilt from the raw dict, as in a worker
    assert setup.store.get(claim) == DONE
    assert setup.store.ttls[claim] == 86400.0  # VAPI_DEDUPLICATE_TTL's default


def test_the_claim_while_running_has_claim_ttl() -> None:
    setup = Setup(RecordingStore(), EAGER, claim_ttl=120, done_ttl=3600)
    seen: dict[str, Any] = {}

    def receiver(message: Message) -> None:
        claim = claim_key(KEY, record)
        seen.update(value=setup.store.get(claim), ttl=setup.store.ttls[claim])

    record = setup.receiver(receiver)
    setup.submit(record)
    setup.celery.close()
    assert seen == {"value": RUNNING, "ttl": 120.0}
    assert setup.store.ttls[claim_key(KEY, record)] == 3600.0


def test_a_pair_already_done_runs_nothing(setup: Setup) -> None:
    calls: list[Message] = []
    receiver = setup.receiver(calls.append)
    setup.store.set(claim_key(KEY, receiver), DONE, 60)
    setup.submit(receiver)
    assert calls == []


def test_a_pair_running_elsewhere_is_retried_then_left_to_that_worker(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[Message] = []
    receiver = setup.receiver(calls.append)
    claim = claim_key(KEY, receiver)
    setup.store.add(claim, RUNNING, 60)
    with caplog.at_level(logging.INFO, logger="flask_vapi"):
        setup.submit(receiver)
    assert calls == []
    assert setup.store.get(claim) == RUNNING
    assert ours(caplog) == [f"'{claim}' is running in another worker; left to it."]


def test_each_failed_try_goes_to_on_error_and_releases_the_claim(setup: Setup) -> None:
    tries: list[int] = []
    error = RuntimeError("the CRM is down")

    def fails(message: Message) -> None:
        tries.append(1)
        raise error

    receiver = setup.receiver(fails)
    setup.submit(receiver)
    assert len(tries) == 3  # the first try and max_retries = 2 retries
    assert [(app, type(message), exc, func) for app, message, exc, func in setup.failures] == [
        (setup.app, EndOfCallReport, error, fails)
    ] * 3
    assert setup.store.get(claim_key(KEY, receiver)) is None


def test_in_eager_mode_a_propagated_failure_is_not_run_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # task_eager_propagates: the task's exception (Celery's Retry) comes out of apply_async.
    setup = Setup(RecordingStore(), {**EAGER, "task_eager_propagates": True})

    def fails(message: Message) -> None:
        raise RuntimeError("always")

    with caplog.at_level(logging.ERROR, logger="flask_vapi"):
        setup.submit(setup.receiver(fails))
    setup.runner.shutdown(WAIT)
    setup.celery.close()
    assert len(setup.failures) == 1  # the task's try, and no second run in a fallback
    assert "failed in Celery's eager mode: Retry" in caplog.text
    assert "running it in this process" not in caplog.text


def test_a_retry_after_a_failure_succeeds(setup: Setup) -> None:
    tries: list[int] = []

    def flaky(message: Message) -> None:
        tries.append(1)
        if len(tries) == 1:
            raise RuntimeError("once")

    receiver = setup.receiver(flaky)
    setup.submit(receiver)
    assert len(tries) == 2 and len(setup.failures) == 1
    assert setup.store.get(claim_key(KEY, receiver)) == DONE


def test_a_receiver_the_worker_does_not_know_is_retried_then_dropped_with_a_warning(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    unknown = BackgroundReceiver("vapi", "myapp.hooks:gone[end-of-call-report]", print)
    with caplog.at_level(logging.WARNING, logger="flask_vapi"):
        setup.submit(unknown)
    assert ours(caplog) == [
        "Vapi background task for 'myapp.hooks:gone[end-of-call-report]' could not start "
        f"(try {n} of 3): LookupError: No background receiver "
        "'myapp.hooks:gone[end-of-call-report]' is registered on the blueprint 'vapi' of "
        "the app 'eager_app' in this worker."
        for n in (1, 2, 3)
    ]
    assert setup.failures == []


def test_tasks_outside_a_flask_app_context_say_how_to_set_celery_up(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    plain = Celery("plain", set_as_current=False)
    plain.conf.update(EAGER)
    setup.app.extensions["celery"] = plain  # not made by celery_init_app: no FlaskTask
    calls: list[Message] = []
    try:
        with caplog.at_level(logging.ERROR, logger="flask_vapi"):
            setup.submit(setup.receiver(calls.append))
    finally:
        plain.close()
    assert calls == []
    assert "create the Celery app with Flask's celery_init_app pattern" in caplog.text


def test_a_worker_app_without_the_runner_names_the_setting(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    setup.app.extensions.pop("flask_vapi.celery_runners")
    with caplog.at_level(logging.ERROR, logger="flask_vapi"):
        setup.submit(setup.receiver(print))
    assert "has no Celery runner for the blueprint 'vapi'" in caplog.text
    assert "VAPI_BACKGROUND = 'celery'" in caplog.text


def down_broker() -> dict[str, Any]:
    """A broker URL with a password, on a port where nothing listens."""
    return {"broker_url": f"redis://:sekret-password@127.0.0.1:{free_port()}/0"}


def test_when_the_broker_is_down_the_receiver_runs_in_this_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    setup = Setup(RecordingStore(), down_broker())
    ran = threading.Event()
    where: list[int] = []

    def receiver(message: Message) -> None:
        where.append(threading.get_ident())
        ran.set()

    record = setup.receiver(receiver)
    try:
        with caplog.at_level(logging.ERROR, logger="flask_vapi"):
            setup.submit(record)
        assert ran.wait(WAIT)
        setup.runner.shutdown(WAIT)
    finally:
        setup.celery.close()
    assert where != [threading.get_ident()]  # off the request path all the same
    assert setup.store.get(claim_key(KEY, record)) == DONE
    assert "running it in this process" in caplog.text
    assert "sekret-password" not in caplog.text


def test_when_broker_and_store_are_down_the_receiver_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    setup = Setup(BrokenStore(), down_broker())
    calls: list[Message] = []
    try:
        with caplog.at_level(logging.WARNING, logger="flask_vapi"):
            setup.submit(setup.receiver(calls.append))
        setup.runner.shutdown(WAIT)
    finally:
        setup.celery.close()
    assert len(calls) == 1
    assert "running list.append without its exactly-once claim" in caplog.text


def test_load_message_types_known_and_unknown_messages() -> None:
    assert type(load_message(make_end_of_call_report())) is EndOfCallReport
    unknown = load_message({"type": "brand-new-event", "extra": 1})
    assert type(unknown) is Message and unknown.type == "brand-new-event"


@pytest.mark.parametrize(
    ("option", "value"),
    [("max_retries", -1), ("backoff", 1.5), ("done_ttl", 0), ("claim_ttl", True)],
)
def test_bad_options_are_refused(option: str, value: Any) -> None:
    with pytest.raises(ValueError, match=option):
        CeleryRunner(MemoryStore(), **{option: value})


def shared_receiver(message: Message) -> None:
    SHARED_CALLS.append(message)


SHARED_CALLS: list[Message] = []


def test_one_function_on_two_endpoints_runs_once_for_each(setup: Setup) -> None:
    sales = VapiBlueprint("sales", url_prefix="/sales", config_prefix="VAPI_SALES_")
    setup.app.config["VAPI_SALES_SECRET"] = "test-secret-0123456789"
    setup.app.register_blueprint(sales)
    setup.runner.init_app(setup.app, "sales")
    SHARED_CALLS.clear()
    for blueprint in (setup.vapi, sales):
        setup.submit(register(blueprint, shared_receiver, TYPES))
    assert len(SHARED_CALLS) == 2  # the same body on two endpoints is two messages
