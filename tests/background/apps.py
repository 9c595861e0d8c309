"""The app factory of the Celery tests, in Flask's Celery pattern (``celery_init_app``).

The test process and the Celery worker (``tests/background/celery_app.py``) both build
their app with :func:`create_app`, so the background receivers have the same identity in
both.  Receivers leave their traces in files and in the shared store, never in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app, request

from flask_vapi import VapiBlueprint, current_message, current_tool_call, jsonio
from flask_vapi.background.celery import CeleryRunner
from flask_vapi.background.receivers import BackgroundReceiver, register
from flask_vapi.models.messages import Message
from flask_vapi.store import Store, open_store

#: The message types of the background receivers below.
TYPES = ["end-of-call-report"]


def celery_init_app(app: Flask) -> Celery:
    """Flask's documented pattern: tasks run in the Flask app's context."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def message_key(raw: dict[str, Any]) -> str:
    """The key the lead's dispatch passes: ``msg:`` and the SHA-256 of the message."""
    return "msg:" + hashlib.sha256(jsonio.dumps(raw)).hexdigest()


def trace(kind: str, message: Message, **extra: Any) -> None:
    """Append one JSON line to ``<OUTPUT>/<call id>.jsonl`` (one write: atomic appends)."""
    call = message.call.id if message.call is not None else "no-call"
    line = {
        "kind": kind,
        "pid": os.getpid(),
        "model": type(message).__name__,
        "current_call": current_message.call.id if current_message.call else None,
        "marker": current_app.config["MARKER"],
        **extra,
    }
    path = Path(current_app.config["OUTPUT"]) / f"{call}.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")


def read_traces(output: Path, call_id: str) -> list[dict[str, Any]]:
    """The lines :func:`trace` wrote for ``call_id``."""
    path = output / f"{call_id}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def attempt(store: Store, message: Message, name: str) -> int:
    """Count one try of receiver ``name`` for this message's call in the shared store."""
    call = message.call.id if message.call is not None else "no-call"

    def increment(value: bytes | None) -> bytes:
        return str(int(value or b"0") + 1).encode()

    return int(store.update(f"attempts:{name}:{call}", increment, 600) or b"0")


def create_app(config: dict[str, Any]) -> Flask:
    """An app with a VapiBlueprint, a Celery app and a CeleryRunner built from ``config``:
    ``broker``, ``backend``, ``store``, ``output``, ``marker``, ``max_retries``."""
    app = Flask("background_app")
    app.config.update(
        TESTING=True,
        VAPI_SECRET="test-secret-0123456789",
        VAPI_BACKGROUND="celery",
        VAPI_STORE_URL=config["store"],
        OUTPUT=config["output"],
        MARKER=config["marker"],
        CELERY={
            "broker_url": config["broker"],
            "result_backend": config["backend"],
            "broker_connection_retry_on_startup": True,
            "worker_hijack_root_logger": False,
        },
    )
    celery_init_app(app)
    vapi = VapiBlueprint()
    store = open_store(config["store"])
    app.extensions["test_store"] = store
    runner = CeleryRunner(store, max_retries=config.get("max_retries", 2), backoff=1)

    def record(message: Message) -> None:
        time.sleep(0.2)  # long enough for duplicates to overlap
        trace("ran", message, attempt=attempt(store, message, "record"))

    def flaky(message: Message) -> None:
        tries = attempt(store, message, "flaky")
        trace("flaky", message, attempt=tries)
        if tries == 1:
            raise RuntimeError("the first try fails")

    def always_fails(message: Message) -> None:
        trace("always_fails", message, attempt=attempt(store, message, "always_fails"))
        raise RuntimeError("this receiver always fails")

    async def async_record(message: Message) -> None:
        trace("async", message)

    receivers: dict[str, BackgroundReceiver] = {
        func.__name__: register(vapi, func, TYPES)
        for func in (record, flaky, always_fails, async_record)
    }
    app.extensions["test_receivers"] = receivers

    @vapi.on(*TYPES)
    def hand_off(message: Message) -> None:
        # What dispatch will do for background receivers (VAPI_BACKGROUND = "celery").
        raw = request.get_json()["message"]
        for name in request.headers.get("X-Test-Receivers", "record").split(","):
            runner.submit(app, message, receivers[name], key=message_key(raw), raw=raw)

    @vapi.tool
    def book(slot: str) -> str:
        # Every execution leaves a line: a redelivered tool call must leave none.
        time.sleep(0.05)  # long enough for a worker to be killed mid-run
        trace("tool", current_message, tool_call=current_tool_call.id)
        return f"booked {slot} (worker {os.getpid()})"

    @vapi.on("status-update", background=True)
    def wired(message: Message) -> None:
        # Registered the way users do: dispatch hands it to Celery (VAPI_BACKGROUND).
        trace("wired", message)

    app.register_blueprint(vapi)
    runner.init_app(app, vapi.name)
    app.extensions["test_runner"] = runner
    return app
