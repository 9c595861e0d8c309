"""A clinic receptionist voice agent on flask_vapi: the Vapi "Server URL" of a small clinic.

It books, lists and cancels 30-minute appointments (Monday to Friday, 09:00-17:00) in a
SQLite file, picks an assistant for each inbound call, and stores call reports.

Run it::

    pip install -e .
    export VAPI_SECRET=...            # the secret of your Vapi server credential
    flask --app example_app run       # Flask finds create_app() by itself

Then set the Server URL of your Vapi phone number or assistant to
``https://<your host>/vapi/webhook`` and define the tools ``checkAvailability``,
``bookAppointment`` and ``cancelAppointment`` with the arguments of the schemas below.
Without ``VAPI_SECRET`` the development secret ``dev-secret-change-me`` is used, so
the app runs out of the box; never deploy with it.  See README.md for the rest.

Several workers and machines: two settings move the call state, the redelivery checks and
the stored reports to Redis and Celery (``pip install -e '.[redis,celery]'``)::

    export VAPI_STORE_URL=redis://localhost:6379/0 VAPI_BACKGROUND=celery
    gunicorn -w 4 'example_app:create_app()'      # the web workers
    celery -A example_celery worker               # stores the end-of-call reports
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from contextlib import closing
from typing import Any, Optional, cast

from flask import Flask, current_app, g
from marshmallow import EXCLUDE, Schema, fields, validate

from flask_vapi import (
    ToolError,
    VapiBlueprint,
    call_state,
    current_message,
    current_tool_call,
    signals,
)
from flask_vapi.models.messages import AssistantRequest, EndOfCallReport, Message, StatusUpdate

DEV_SECRET = "dev-secret-change-me"  # development only: set VAPI_SECRET in production

# Opening hours, in the clinic's local time (the server's clock must be on clinic time).
OPEN_WEEKDAYS = range(5)  # Monday..Friday
OPENS, CLOSES = dt.time(9, 0), dt.time(17, 0)
SLOT = dt.timedelta(minutes=30)
HOURS_TEXT = "We are open Monday to Friday, from 09:00 to 17:00."

SCHEMA = """
CREATE TABLE IF NOT EXISTS appointments (
    id INTEGER PRIMARY KEY, patient_name TEXT NOT NULL, phone TEXT,
    starts_at TEXT NOT NULL,   -- clinic local time, 'YYYY-MM-DDTHH:MM'
    reason TEXT,
    tool_call_id TEXT UNIQUE,  -- Vapi's toolCall.id: a redelivered tool call books only once
    created_at TEXT NOT NULL, cancelled_at TEXT
);
-- One live appointment per slot, enforced by SQLite: two callers racing for a slot
-- cannot both get it.
CREATE UNIQUE INDEX IF NOT EXISTS appointments_slot
    ON appointments (starts_at) WHERE cancelled_at IS NULL;
CREATE INDEX IF NOT EXISTS appointments_phone ON appointments (phone);
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY, customer_number TEXT, status TEXT, ended_reason TEXT,
    summary TEXT, transcript TEXT, cost REAL, started_at TEXT, ended_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS status_events (
    id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, status TEXT NOT NULL,
    ended_reason TEXT, received_at TEXT NOT NULL
);
"""

vapi = VapiBlueprint()


# -- storage -------------------------------------------------------------------------------


def get_db() -> sqlite3.Connection:
    """The connection of the current app context (closed when the context ends)."""
    if "clinic_db" not in g:
        g.clinic_db = sqlite3.connect(current_app.config["CLINIC_DATABASE"])
        g.clinic_db.row_factory = sqlite3.Row
    db: sqlite3.Connection = g.clinic_db
    return db


def close_db(exc: Optional[BaseException] = None) -> None:
    db = g.pop("clinic_db", None)
    if db is not None:
        db.close()


def init_db(path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with closing(sqlite3.connect(path)) as db:  # `with connection` alone would not close it
        db.executescript(SCHEMA)


def utcnow() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def caller_number(message: Message) -> Optional[str]:
    """The caller's phone number (``None`` for web calls)."""
    customer = message.customer or (message.call.customer if message.call else None)
    return customer.number if customer else None


# -- opening hours -------------------------------------------------------------------------


def spoken_date(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def day_slots(day: dt.date) -> list[dt.datetime]:
    """Every appointment start time of ``day`` (none when the clinic is closed)."""
    if day.weekday() not in OPEN_WEEKDAYS:
        return []
    slots, start = [], dt.datetime.combine(day, OPENS)
    while start + SLOT <= dt.datetime.combine(day, CLOSES):
        slots.append(start)
        start += SLOT
    return slots


def check_bookable(starts: dt.datetime) -> None:
    """Raise a :class:`ToolError` the assistant can say when ``starts`` is not a slot."""
    if starts.weekday() not in OPEN_WEEKDAYS:
        raise ToolError(f"The clinic is closed on {starts:%A}s. {HOURS_TEXT}")
    if starts not in day_slots(starts.date()):
        raise ToolError(
            "Appointments start on the hour or half hour, the last one at 16:30. " + HOURS_TEXT
        )
    if starts <= dt.datetime.now():
        raise ToolError("That time has already passed. Please choose a later time.")


# -- tools ---------------------------------------------------------------------------------
# The schemas validate the model's arguments before a handler runs; a bad argument becomes
# an error result naming the field, which the model reads and usually corrects.  The
# descriptions are what you paste into the tool's parameters in the Vapi dashboard.


class AvailabilityArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # extra arguments the model invents are harmless

    date = fields.Date(
        "%Y-%m-%d",
        required=True,
        metadata={"description": "The day, as YYYY-MM-DD."},
        error_messages={"invalid": "Not a valid date; use YYYY-MM-DD, for example 2025-03-14."},
    )


class SlotArgs(AvailabilityArgs):
    time = fields.Time(
        required=True,
        metadata={"description": "The start time, 24-hour HH:MM, for example 14:30."},
        error_messages={"invalid": "Not a valid time; use 24-hour HH:MM, for example 14:30."},
    )


class BookingArgs(SlotArgs):
    patient_name = fields.String(
        data_key="patientName",
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "The patient's full name."},
    )
    reason = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "Optional: the reason for the visit, in a few words."},
    )


def free_slots(day: dt.date) -> list[dt.datetime]:
    rows = get_db().execute(
        "SELECT starts_at FROM appointments WHERE date(starts_at) = ? AND cancelled_at IS NULL",
        (day.isoformat(),),
    )
    booked = {row["starts_at"] for row in rows}
    now = dt.datetime.now()
    return [
        slot
        for slot in day_slots(day)
        if slot > now and slot.isoformat(timespec="minutes") not in booked
    ]


@vapi.tool("checkAvailability", schema=AvailabilityArgs)
def check_availability(date: dt.date) -> str:
    """List the free appointment times of the clinic on a given day."""
    if date < dt.date.today():
        raise ToolError("That date has already passed. Please choose a later date.")
    if date.weekday() not in OPEN_WEEKDAYS:
        return f"The clinic is closed on {date:%A}s. {HOURS_TEXT}"
    slots = free_slots(date)
    if not slots:
        return f"There are no free times left on {spoken_date(date)}."
    times = ", ".join(f"{slot:%H:%M}" for slot in slots)
    return f"Free times on {spoken_date(date)}: {times}."


def current_tool_call_id() -> Optional[str]:
    # Legacy `function-call` messages reach the same handlers, without a tool call id.
    return current_tool_call.id if current_message.type == "tool-calls" else None


@vapi.tool("bookAppointment", schema=BookingArgs)
def book_appointment(
    date: dt.date, time: dt.time, patient_name: str, reason: Optional[str] = None
) -> str:
    """Book a 30-minute appointment for a patient at a free time."""
    db, call_id = get_db(), current_tool_call_id()
    # Vapi may deliver a tool call twice: answer the repeat as the first time.
    seen = "SELECT id FROM appointments WHERE tool_call_id = ?"
    repeat = db.execute(seen, (call_id,)).fetchone()
    if repeat is not None:
        return confirmation(repeat["id"])
    starts = dt.datetime.combine(date, time)
    check_bookable(starts)
    try:
        with db:
            cursor = db.execute(
                "INSERT INTO appointments (patient_name, phone, starts_at, reason,"
                " tool_call_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    patient_name.strip(),
                    caller_number(current_message),
                    starts.isoformat(timespec="minutes"),
                    reason,
                    call_id,
                    utcnow(),
                ),
            )
    except sqlite3.IntegrityError:  # the unique slot index: someone else has that time
        raise ToolError(
            f"{starts:%H:%M} on {spoken_date(date)} is already taken. Please choose another time."
        ) from None
    appointment_id = cast(int, cursor.lastrowid)
    # Remembered for the rest of the call, by every worker: a web call has no phone number,
    # and may still cancel what it booked.
    with call_state.transaction() as state:
        state["booked"] = [*state.get("booked", []), appointment_id]
    return confirmation(appointment_id)


def confirmation(appointment_id: int) -> str:
    query = "SELECT patient_name, starts_at FROM appointments WHERE id = ?"
    row = get_db().execute(query, (appointment_id,)).fetchone()
    starts = dt.datetime.fromisoformat(row["starts_at"])
    return (
        f"Booked {row['patient_name']} on {spoken_date(starts.date())} at {starts:%H:%M}. "
        f"The confirmation number is {appointment_id}."
    )


@vapi.tool("cancelAppointment", schema=SlotArgs)
def cancel_appointment(date: dt.date, time: dt.time) -> str:
    """Cancel the caller's appointment at the given day and time."""
    phone = caller_number(current_message)
    booked = call_state.get("booked", [])  # appointments booked earlier in this call
    if phone is None and not booked:
        raise ToolError("I can only cancel appointments when you call from your phone.")
    starts = dt.datetime.combine(date, time)
    db = get_db()
    marks = ", ".join("?" * len(booked))
    with db:
        cursor = db.execute(
            "UPDATE appointments SET cancelled_at = ?"
            f" WHERE starts_at = ? AND (phone = ? OR id IN ({marks})) AND cancelled_at IS NULL",
            (utcnow(), starts.isoformat(timespec="minutes"), phone, *booked),
        )
    if cursor.rowcount == 0:
        raise ToolError("I could not find an appointment at that time booked from this phone.")
    return f"The appointment on {spoken_date(date)} at {starts:%H:%M} is cancelled."


# -- which assistant answers -----------------------------------------------------------------


@vapi.assistant_request
def choose_assistant(message: AssistantRequest) -> dict[str, Any]:
    """Returning patients get an assistant that greets them by name (``{{patientName}}``)."""
    config, number = current_app.config, caller_number(message)
    row = None
    if number is not None:
        latest = "SELECT patient_name FROM appointments WHERE phone = ? ORDER BY id DESC LIMIT 1"
        row = get_db().execute(latest, (number,)).fetchone()
    if row is None:
        return {"assistantId": config["CLINIC_NEW_PATIENT_ASSISTANT_ID"]}
    return {
        "assistantId": config["CLINIC_RETURNING_ASSISTANT_ID"],
        "assistantOverrides": {"variableValues": {"patientName": row["patient_name"]}},
    }


# -- call records ----------------------------------------------------------------------------
# get_db() is the database of the app handling the message: the webhook request's for
# status updates; for the report, the app context its background receiver runs in.


@vapi.on("end-of-call-report", background=True)  # stored after the webhook is answered
def record_end_of_call_report(message: EndOfCallReport) -> None:
    call = message.call
    if call is None or not call.id:
        return
    cost = message.cost if message.cost is not None else call.cost
    db = get_db()
    with db:  # the report is the final word on a call: it replaces the row
        db.execute(
            "INSERT OR REPLACE INTO calls (call_id, customer_number, status, ended_reason,"
            " summary, transcript, cost, started_at, ended_at, updated_at)"
            " VALUES (?, ?, 'ended', ?, ?, ?, ?, ?, ?, ?)",
            (
                call.id,
                caller_number(message),
                message.ended_reason,
                message.summary,
                message.transcript,
                cost,
                iso_or_none(message.started_at),
                iso_or_none(message.ended_at),
                utcnow(),
            ),
        )


def record_status_update(sender: Flask, message: StatusUpdate, **extra: Any) -> None:
    call = message.call
    if call is None or not call.id:
        return
    now, db = utcnow(), get_db()
    with db:
        # Webhooks can arrive out of order: a late update never reopens an ended call.
        db.execute(
            "INSERT INTO calls (call_id, customer_number, status, ended_reason, updated_at)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (call_id) DO UPDATE SET"
            " status = CASE WHEN status = 'ended' THEN status ELSE excluded.status END,"
            " ended_reason = COALESCE(ended_reason, excluded.ended_reason),"
            " customer_number = COALESCE(customer_number, excluded.customer_number),"
            " updated_at = excluded.updated_at",
            (call.id, caller_number(message), message.status, message.ended_reason, now),
        )
        db.execute(
            "INSERT INTO status_events (call_id, status, ended_reason, received_at)"
            " VALUES (?, ?, ?, ?)",
            (call.id, message.status, message.ended_reason, now),
        )


def iso_or_none(value: Optional[dt.datetime]) -> Optional[str]:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- the application -------------------------------------------------------------------------


#: Settings read from the environment as well, so that a deployment moves to Redis and
#: Celery without code changes.
SCALE_OUT_KEYS = ("VAPI_STORE_URL", "VAPI_BACKGROUND")


def celery_init_app(app: Flask) -> Any:
    """Flask's Celery pattern: the app's Celery app, whose tasks run in an app context.

    Its broker is ``CELERY_BROKER_URL``, or else the Redis of ``VAPI_STORE_URL``.
    """
    from celery import Celery, Task

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config.get("CELERY_BROKER_URL") or app.config.get("VAPI_STORE_URL")
    celery_app = Celery(app.name, task_cls=FlaskTask, broker=broker)
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def create_app(config: Optional[dict[str, Any]] = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        VAPI_SECRET=os.environ.get("VAPI_SECRET", DEV_SECRET),
        # The web workers and the Celery worker of one machine share this file.
        CLINIC_DATABASE=os.environ.get(
            "CLINIC_DATABASE", os.path.join(app.instance_path, "clinic.sqlite3")
        ),
        # Placeholders: the ids of your two assistants in the Vapi dashboard.
        CLINIC_NEW_PATIENT_ASSISTANT_ID="new-patient-assistant-id",
        CLINIC_RETURNING_ASSISTANT_ID="returning-patient-assistant-id",
    )
    for key in SCALE_OUT_KEYS:  # e.g. VAPI_STORE_URL=redis://... VAPI_BACKGROUND=celery
        if key in os.environ:
            app.config[key] = os.environ[key]
    if config:
        app.config.update(config)
    if app.config.get("VAPI_BACKGROUND") == "celery":
        celery_init_app(app)  # before the blueprint: its background receivers need Celery
    if app.config["VAPI_SECRET"] == DEV_SECRET and not (app.debug or app.testing):
        app.logger.warning("VAPI_SECRET is the development default; set it before deploying.")

    init_db(app.config["CLINIC_DATABASE"])
    app.teardown_appcontext(close_db)
    app.register_blueprint(vapi)  # reads VAPI_* now: bad auth config fails here, not later
    # Signals are process-wide; connecting with sender=app keeps each app's receivers to its
    # own messages, and connecting the same function again for the same app is a no-op.
    signals.status_update.connect(record_status_update, sender=app)
    return app
