"""The app the gunicorn deadline tests serve: handlers that sleep past short budgets."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any, Optional

from flask import Flask, jsonify

from flask_vapi import VapiBlueprint, signals
from flask_vapi.errors import DeadlineExceeded

#: The budget of the slow handlers, and how long they sleep (well past it).
BUDGET = 0.3
SLEEP = 1.0
ON_TIMEOUT = "Still working on it, one moment."
FALLBACK = {"error": "We are very busy right now. Please call again in a few minutes."}
#: The late outcomes this worker process saw on ``late_result``, and the budgets it saw run
#: out on ``handler_error`` (a process serves one app).
LATE: list[dict[str, Any]] = []
DEADLINES: list[dict[str, Any]] = []
_LOCK = threading.Lock()


def _record_late(sender: Any, **extra: Any) -> None:
    """Keep what a late handler produced, for ``GET /late`` (module level: blinker holds
    receivers weakly)."""
    tool_call, message = extra.get("tool_call"), extra.get("message")
    exception = extra.get("exception")
    outcome = {
        "tool": None if tool_call is None else tool_call.name,
        "id": None if tool_call is None else tool_call.id,
        "type": None if message is None else message.type,
        "value": extra.get("value"),
        "exception": None if exception is None else type(exception).__name__,
    }
    with _LOCK:
        LATE.append(outcome)


def _record_deadline(sender: Any, **extra: Any) -> None:
    """Keep each ``DeadlineExceeded`` (``PoolExhausted`` too) sent on ``handler_error``."""
    exception, message = extra.get("exception"), extra.get("message")
    if isinstance(exception, DeadlineExceeded):
        seen = {
            "exception": type(exception).__name__,
            "tool": exception.tool,
            "type": None if message is None else message.type,
        }
        with _LOCK:
            DEADLINES.append(seen)


def create_app(
    budget: float = BUDGET,
    sleep: float = SLEEP,
    tool_calls_budget: Optional[float] = None,
    assistant_budget: Optional[float] = None,
    fallback: bool = False,
    max_workers: Optional[int] = None,
) -> Flask:
    """The webhook (unsigned, ``VAPI_AUTH_DISABLED``) with these handlers:

    * ``slow`` (budget ``budget``) and ``slow_async`` (``async def``, same budget) sleep
      ``sleep`` s; ``polite`` does too, with ``on_timeout`` :data:`ON_TIMEOUT`;
    * ``sleepy`` sleeps ``sleep`` s with no budget of its own (the ``tool-calls`` budget,
      ``tool_calls_budget`` when given);
    * ``fast`` answers at once: ``"fast: <text>"``;
    * the ``assistant-request`` responder sleeps ``sleep`` s; its budget is
      ``assistant_budget`` (default ``budget``), and with ``fallback`` its fallback is
      :data:`FALLBACK` (``VAPI_FALLBACK_RESPONSES``);
    * ``max_workers``: ``VAPI_MAX_WORKERS`` (default: flask_vapi's).

    ``GET /late`` answers this process's pid, the late outcomes and the deadline errors it
    has seen.
    """
    app = Flask("deadline_app")
    deadlines: dict[str, Optional[float]] = {
        "assistant-request": budget if assistant_budget is None else assistant_budget
    }
    if tool_calls_budget is not None:
        deadlines["tool-calls"] = tool_calls_budget
    # A store of its own in each server process: nothing is kept from one test run to the next.
    app.config.update(VAPI_AUTH_DISABLED=True, VAPI_DEADLINES=deadlines, VAPI_STORE_URL="memory://")
    if fallback:
        app.config["VAPI_FALLBACK_RESPONSES"] = {"assistant-request": FALLBACK}
    if max_workers is not None:
        app.config["VAPI_MAX_WORKERS"] = max_workers
    vapi = VapiBlueprint()

    @vapi.tool("slow", timeout=budget)
    def slow(text: str = "") -> str:
        time.sleep(sleep)
        return f"slow: {text}"

    @vapi.tool("slow_async", timeout=budget)
    async def slow_async(text: str = "") -> str:
        await asyncio.sleep(sleep)
        return f"slow_async: {text}"

    @vapi.tool("polite", timeout=budget, on_timeout=ON_TIMEOUT)
    def polite(text: str = "") -> str:
        time.sleep(sleep)
        return f"polite: {text}"

    @vapi.tool("sleepy")
    def sleepy(text: str = "") -> str:
        time.sleep(sleep)
        return f"sleepy: {text}"

    @vapi.tool("fast")
    def fast(text: str = "") -> str:
        return f"fast: {text}"

    @vapi.assistant_request
    def choose_assistant(message: Any) -> dict[str, Any]:
        time.sleep(sleep)
        return {"assistantId": "late-assistant"}

    app.register_blueprint(vapi)
    signals.late_result.connect(_record_late, app)
    signals.handler_error.connect(_record_deadline, app)

    @app.get("/late")
    def late() -> Any:
        with _LOCK:
            return jsonify(pid=os.getpid(), late=list(LATE), deadlines=list(DEADLINES))

    return app
