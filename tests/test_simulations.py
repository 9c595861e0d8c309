"""Simulation webhooks (flat bodies, protocol notes §11) load into typed, lenient models."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import pytest

from flask_vapi import models

CALLS = {
    "testerCallId": "a1b2c3d4-0000-4000-8000-000000000001",
    "targetCallId": "e5f6a7b8-0000-4000-8000-000000000002",
    "listenUrl": "wss://phone-call-websocket.example/4f1c/listen",
}
#: The bodies of Vapi's "Simulations advanced" page, with its elided values filled in.
STARTED = {
    "type": "simulation.run.started",
    "simulationId": "8f2a9c1e-3b4d-4a7e-9c2f-1d6b0a5e7f34",
    "runId": "b7d4e2a0-6c9f-4e13-8a52-2f7c9b1d4e60",
    "simulationRunItemId": "c3e8f1a2-9d47-4b6c-8e30-5a1f2b9c7d84",
    "iterationNumber": 1,
    "isSimulation": True,
    "calls": CALLS,
}
ENDED = {
    **STARTED,
    "type": "simulation.run.ended",
    "endedReason": "assistant-ended-call",
    "canceled": False,
    "failureReason": None,
    "startedAt": "2026-07-28T17:10:05.000Z",
    "endedAt": "2026-07-28T17:12:30.000Z",
    "transcript": "AI: Bright Smile Dental, how can I help?\nUser: I need a cleaning.",
    "messages": [{"role": "bot", "message": "Bright Smile Dental, how can I help?"}],
    "recordingUrl": "https://storage.example/simulations/c3e8f1a2.wav",
}


def test_started_loads_with_snake_case_attributes() -> None:
    event = models.SimulationRunStarted.load(copy.deepcopy(STARTED))
    assert event.type == "simulation.run.started"
    assert event.simulation_id == STARTED["simulationId"]
    assert event.run_id == STARTED["runId"]
    assert event.simulation_run_item_id == STARTED["simulationRunItemId"]
    assert event.iteration_number == 1
    assert event.is_simulation is True
    assert event.calls is not None
    assert event.calls.tester_call_id == CALLS["testerCallId"]
    assert event.calls.target_call_id == CALLS["targetCallId"]
    assert event.calls.listen_url == CALLS["listenUrl"]
    assert event.invalid_fields == {}


def test_ended_adds_the_outcome_and_the_included_artifacts() -> None:
    event = models.SimulationRunEnded.load(copy.deepcopy(ENDED))
    assert event.ended_reason == "assistant-ended-call"
    assert event.canceled is False
    assert event.failure_reason is None
    assert event.started_at == datetime(2026, 7, 28, 17, 10, 5, tzinfo=timezone.utc)
    assert event.ended_at == datetime(2026, 7, 28, 17, 12, 30, tzinfo=timezone.utc)
    assert event.transcript is not None and event.transcript.startswith("AI:")
    assert event.messages == ENDED["messages"]
    assert event.recording_url == ENDED["recordingUrl"]
    assert event.iteration_number == 1
    assert event.invalid_fields == {}


def test_ended_without_the_optional_parts_loads() -> None:
    body = {k: v for k, v in ENDED.items() if k not in ("transcript", "messages", "recordingUrl")}
    event = models.SimulationRunEnded.load(body)
    assert (event.transcript, event.messages, event.recording_url) == (None, None, None)
    assert event.invalid_fields == {}


@pytest.mark.parametrize(
    ("key", "attr"),
    [
        ("simulationId", "simulation_id"),
        ("runId", "run_id"),
        ("simulationRunItemId", "simulation_run_item_id"),
        ("iterationNumber", "iteration_number"),
    ],
)
def test_missing_identifiers_are_named_not_refused(key: str, attr: str) -> None:
    body = {k: v for k, v in ENDED.items() if k != key}
    event = models.SimulationRunEnded.load(body)
    assert getattr(event, attr) is None
    assert event.invalid_fields == {key: ["Missing data for required field."]}


@pytest.mark.parametrize(
    ("key", "value", "attr"),
    [
        ("iterationNumber", "first", "iteration_number"),
        ("canceled", "maybe", "canceled"),
        ("endedReason", 3, "ended_reason"),
        ("calls", "tester,target", "calls"),
        ("startedAt", False, "started_at"),
    ],
)
def test_odd_values_read_none_and_are_named(key: str, value: Any, attr: str) -> None:
    event = models.SimulationRunEnded.load({**ENDED, key: value})
    assert getattr(event, attr) is None
    assert list(event.invalid_fields) == [key]


def test_the_listen_url_is_left_out_of_repr() -> None:
    event = models.SimulationRunStarted.load(copy.deepcopy(STARTED))
    assert event.calls is not None
    text = repr(event.calls)
    assert CALLS["testerCallId"] in text
    assert CALLS["listenUrl"] not in text
