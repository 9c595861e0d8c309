"""Factories of Vapi test-simulation events: flat bodies, without the message envelope."""

from __future__ import annotations

from typing import Any

from ._common import CALL_ID, _iso, _now_ms

SIMULATION_ID = "8f2a9c1e-3b4d-4a7e-9c2f-1d6b0a5e7f34"
RUN_ID = "b7d4e2a0-6c9f-4e13-8a52-2f7c9b1d4e60"
RUN_ITEM_ID = "c3e8f1a2-9d47-4b6c-8e30-5a1f2b9c7d84"


def _run(event: str, overrides: dict[str, Any]) -> dict[str, Any]:
    overrides.pop("timestamp_as", None)  # accepted like every factory; simulations carry none
    body: dict[str, Any] = {
        "type": event,
        "simulationId": SIMULATION_ID,
        "runId": RUN_ID,
        "simulationRunItemId": RUN_ITEM_ID,
        "iterationNumber": 1,
        "isSimulation": True,
        "calls": {
            "testerCallId": "a1b2c3d4-0000-4000-8000-000000000001",
            "targetCallId": CALL_ID,
            "listenUrl": f"wss://phone-call-websocket.example/{CALL_ID}/listen",
        },
    }
    body.update(overrides)
    return body


def make_simulation_run_started(**overrides: Any) -> dict[str, Any]:
    """``simulation.run.started``: a test simulation's run began (a flat body, no envelope)."""
    return _run("simulation.run.started", overrides)


def make_simulation_run_ended(
    *, ended_reason: str = "assistant-ended-call", **overrides: Any
) -> dict[str, Any]:
    """``simulation.run.ended``: the run's outcome, times, transcript and recording."""
    ended = _now_ms()
    return _run(
        "simulation.run.ended",
        {
            "endedReason": ended_reason,
            "canceled": False,
            "failureReason": None,
            "startedAt": _iso(ended - 145_000),
            "endedAt": _iso(ended),
            "transcript": "AI: Bright Smile Dental, how can I help?\nUser: I need a cleaning.",
            "messages": [{"role": "bot", "message": "Bright Smile Dental, how can I help?"}],
            "recordingUrl": f"https://storage.example/simulations/{RUN_ITEM_ID}.wav",
            **overrides,
        },
    )
