"""Vapi test-simulation webhooks: flat bodies (no ``message`` envelope), all fields lenient."""

from __future__ import annotations

from typing import ClassVar, Optional

from marshmallow import fields

from .base import Lazy, VapiObject, field, one, raw
from .common import parse_timestamp
from .messages import Message


class SimulationCalls(VapiObject):
    """The two calls of a simulation iteration: the AI tester's and the assistant's under test.

    ``listen_url`` lets anyone who has it listen to the call: never log or show it
    (``repr`` leaves it out).
    """

    _private: ClassVar[frozenset[str]] = frozenset({"listen_url"})

    tester_call_id: Optional[str] = field(fields.String())
    target_call_id: Optional[str] = field(fields.String())
    listen_url: Optional[str] = field(fields.String())


class SimulationRun(Message):
    """The fields both simulation events carry (``simulation.run.started`` / ``.ended``)."""

    simulation_id: Optional[str] = field(fields.String(required=True))
    run_id: Optional[str] = field(fields.String(required=True))
    simulation_run_item_id: Optional[str] = field(fields.String(required=True))
    iteration_number: Optional[int] = field(fields.Integer(required=True))
    is_simulation: Optional[bool] = field(fields.Boolean())
    calls = one(SimulationCalls)


class SimulationRunStarted(SimulationRun):
    """``simulation.run.started``: an iteration of a voice simulation began."""


class SimulationRunEnded(SimulationRun):
    """``simulation.run.ended``: an iteration finished; ``transcript`` and the rest if included."""

    ended_reason: Optional[str] = field(fields.String())
    canceled: Optional[bool] = field(fields.Boolean())
    failure_reason: Optional[str] = field(fields.String())
    started_at = Lazy(parse_timestamp)
    ended_at = Lazy(parse_timestamp)
    transcript: Optional[str] = field(fields.String())
    recording_url: Optional[str] = field(fields.String())
    messages = raw()


__all__ = ["SimulationCalls", "SimulationRun", "SimulationRunEnded", "SimulationRunStarted"]
