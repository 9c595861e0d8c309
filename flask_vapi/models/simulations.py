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

    #: The id of the AI tester's call.
    tester_call_id: Optional[str] = field(fields.String())
    #: The id of the call to the assistant under test.
    target_call_id: Optional[str] = field(fields.String())
    #: The call's listen URL (a capability: never log or show it).
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

    #: Why the run's call ended (the call ``endedReason`` values).
    ended_reason: Optional[str] = field(fields.String())
    #: Whether the run was cancelled.
    canceled: Optional[bool] = field(fields.Boolean())
    #: Why the run failed, when it did.
    failure_reason: Optional[str] = field(fields.String())
    #: When the run started.
    started_at = Lazy(parse_timestamp)
    #: When the run ended.
    ended_at = Lazy(parse_timestamp)
    #: The conversation's transcript, when included.
    transcript: Optional[str] = field(fields.String())
    #: The recording of the run's call, when included.
    recording_url: Optional[str] = field(fields.String())
    #: The conversation's messages, when included.
    messages = raw()


__all__ = ["SimulationCalls", "SimulationRun", "SimulationRunEnded", "SimulationRunStarted"]
