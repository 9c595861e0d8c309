"""The two apps under test: the bare-Flask floor and a realistically wired flask_vapi app."""

from __future__ import annotations

import os
from typing import Any, Optional

from flask import Flask, jsonify, request

from flask_vapi import VapiBlueprint, signals
from flask_vapi.catalogue import ANSWERED

#: Path both apps answer, so the requests differ only in the app that serves them.
PATH = "/vapi/webhook"
#: The ``X-Vapi-Secret`` both apps receive (only the vapi app checks it).
SECRET = "bench-secret-5f2c9a7e1d"
ASSISTANT_ID = "64fb020e-ee88-447e-917b-f42df997530d"

#: The signals the benchmark payloads fire; each gets one trivial receiver.
USED_SIGNALS = (
    signals.message_received,
    signals.status_update,
    signals.speech_update,
    signals.tool_calls,
    signals.assistant_request,
    signals.transcript,
    signals.end_of_call_report,
    signals.conversation_update,
)


def create_floor_app() -> Flask:
    """The floor: a bare Flask view that parses the JSON body and returns a fixed answer."""
    app = Flask("floor")

    @app.post(PATH)
    def webhook() -> Any:
        request.get_json()
        return jsonify({})

    return app


def _receiver(sender: Flask, **extra: Any) -> None:
    """A trivial signal receiver (module level: blinker holds receivers weakly)."""


def _read_history(sender: Flask, message: Any, **extra: Any) -> None:
    """A receiver that reads the conversation history (which validates it: it is lazy)."""
    if message.type == "end-of-call-report":
        len(message.artifact.messages)
    else:
        len(message.messages)


def create_vapi_app(read_history: bool = False, event_log: Optional[str] = None) -> Flask:
    """flask_vapi with secret auth, one trivial receiver per used signal, tools and a responder.

    ``read_history``: the end-of-call-report and conversation-update receivers read the
    history (``message.artifact.messages`` / ``message.messages``) instead of nothing.
    ``event_log``: a store URL, where the app records every webhook (``VAPI_EVENT_LOG``).
    """
    app = Flask("vapi-read" if read_history else "vapi" if event_log is None else "vapi-log")
    app.config["VAPI_SECRET"] = SECRET
    # The same prebuilt request is sent again and again: each must be handled, not answered
    # as a redelivery.  The store's own cost is measured by benchmarks/store.py.
    app.config.update(VAPI_DEDUPLICATE=False, VAPI_STORE_URL="memory://")
    if event_log is not None:
        app.config.update(VAPI_EVENT_LOG=True, VAPI_STORE_URL=event_log)
    if os.environ.get("BENCH_DEADLINES") == "off":  # the inline path, without the guard
        app.config["VAPI_DEADLINES"] = dict.fromkeys(ANSWERED)
    vapi = VapiBlueprint()

    @vapi.tool
    def bookAppointment(  # Vapi's wire names
        patientName: str, dateOfBirth: str, doctor: str, date: str, time: str
    ) -> str:
        return "Booked. Confirmation number RFC-48213."

    @vapi.tool
    def checkAvailability(doctor: str, date: str) -> str:
        return "Available slots: 09:00, 10:30, 11:15"

    @vapi.tool
    def cancelAppointment(confirmation: str) -> dict[str, Any]:
        return {"cancelled": True, "confirmation": confirmation}

    @vapi.tool
    def lookupPatient(name: str, dateOfBirth: str) -> str:
        return "Patient found."

    @vapi.tool
    def transferCall(**arguments: Any) -> str:
        return "Transferring."

    @vapi.assistant_request
    def choose_assistant(message: Any) -> dict[str, Any]:
        return {"assistantId": ASSISTANT_ID}

    app.register_blueprint(vapi)
    readers = (signals.end_of_call_report, signals.conversation_update) if read_history else ()
    for signal in USED_SIGNALS:
        signal.connect(_read_history if signal in readers else _receiver, app)
    return app


#: The five calls of the ``tool-calls x5`` payload: ``(name, arguments)``.
FIVE_CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "bookAppointment",
        {
            "patientName": "Maria Gonzalez",
            "dateOfBirth": "1985-03-14",
            "doctor": "Dr. Patel",
            "date": "2026-09-08",
            "time": "10:30",
        },
    ),
    ("checkAvailability", {"doctor": "Dr. Patel", "date": "2026-09-08"}),
    ("cancelAppointment", {"confirmation": "RFC-48213"}),
    ("lookupPatient", {"name": "Maria Gonzalez", "dateOfBirth": "1985-03-14"}),
    ("transferCall", {"destination": "front desk"}),
)
