"""The clinic example app (example_app.py), driven through the webhook like Vapi drives it."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any, Optional

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from example_app import DEV_SECRET, create_app
from flask_vapi import VapiBlueprint, payloads, signals

SECRET = "test-secret"
CALLER = payloads.CUSTOMER_NUMBER
OTHER_CALLER = "+14155550999"
ALL_SLOTS = [f"{hour:02d}:{minute:02d}" for hour in range(9, 17) for minute in (0, 30)]

_TODAY = dt.date.today()
MONDAY = _TODAY + dt.timedelta(days=14 - _TODAY.weekday())  # a Monday 8 to 14 days ahead
SATURDAY = MONDAY + dt.timedelta(days=5)
LAST_MONDAY = _TODAY - dt.timedelta(days=_TODAY.weekday() + 7)


def booking(time: str = "10:30", day: dt.date = MONDAY, **extra: Any) -> dict[str, Any]:
    return {"patientName": "Maria Gonzalez", "date": day.isoformat(), "time": time, **extra}


@pytest.fixture
def database(tmp_path: Path) -> str:
    return str(tmp_path / "clinic.sqlite3")


@pytest.fixture
def app(database: str) -> Flask:
    return create_app({"TESTING": True, "VAPI_SECRET": SECRET, "CLINIC_DATABASE": database})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def post(client: FlaskClient, message: dict[str, Any], secret: str = SECRET) -> TestResponse:
    """POST, then wait for the background receivers (the report is stored off the request)."""
    response = client.post(
        "/vapi/webhook", json=payloads.wrap(message), headers={"X-Vapi-Secret": secret}
    )
    for runner in client.application.extensions.get("vapi_background", {}).values():
        assert runner.drain(10.0)
    return response


def call_tool(
    client: FlaskClient,
    name: str,
    arguments: dict[str, Any],
    call_id: Optional[str] = None,
    **overrides: Any,
) -> dict[str, Any]:
    """The one result of a ``tool-calls`` request for ``name`` (a fresh tool call id by default)."""
    spec = (name, arguments, call_id or f"call_{uuid.uuid4().hex[:24]}")
    response = post(client, payloads.make_tool_calls(spec, **overrides))
    assert response.status_code == 200
    [result] = response.get_json()["results"]
    assert result["name"] == name
    return dict(result)


def query(database: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(database)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(sql, params)]


def free_times(client: FlaskClient, day: dt.date = MONDAY) -> list[str]:
    result = call_tool(client, "checkAvailability", {"date": day.isoformat()})
    return re.findall(r"\b\d\d:\d\d\b", result["result"])


# -- checkAvailability -------------------------------------------------------------------------


def test_availability_lists_every_half_hour_of_an_open_day(client: FlaskClient) -> None:
    assert free_times(client) == ALL_SLOTS


def test_availability_excludes_booked_slots(client: FlaskClient) -> None:
    assert "result" in call_tool(client, "bookAppointment", booking("10:30"))
    assert "result" in call_tool(client, "bookAppointment", booking("16:30"))
    assert free_times(client) == [t for t in ALL_SLOTS if t not in ("10:30", "16:30")]
    assert free_times(client, MONDAY + dt.timedelta(days=1)) == ALL_SLOTS  # other days unaffected


def test_availability_on_a_closed_day_says_so(client: FlaskClient) -> None:
    result = call_tool(client, "checkAvailability", {"date": SATURDAY.isoformat()})
    assert "closed on Saturdays" in result["result"]
    assert not re.search(r"\d\d:\d\d,", result["result"])


def test_availability_of_a_past_day_is_an_error(client: FlaskClient) -> None:
    result = call_tool(client, "checkAvailability", {"date": LAST_MONDAY.isoformat()})
    assert "already passed" in result["error"]
    assert "result" not in result


# -- bookAppointment ---------------------------------------------------------------------------


def test_booking_stores_the_appointment_with_the_callers_number(
    client: FlaskClient, database: str
) -> None:
    result = call_tool(
        client, "bookAppointment", booking(reason="check-up"), call_id="call_booking_1"
    )
    assert result["toolCallId"] == "call_booking_1"
    assert result["result"] == (
        f"Booked Maria Gonzalez on {MONDAY:%A} {MONDAY.day} {MONDAY:%B} at 10:30. "
        "The confirmation number is 1."
    )
    [row] = query(database, "SELECT * FROM appointments")
    assert row["patient_name"] == "Maria Gonzalez"
    assert row["phone"] == CALLER
    assert row["starts_at"] == f"{MONDAY.isoformat()}T10:30"
    assert row["reason"] == "check-up"
    assert row["tool_call_id"] == "call_booking_1"
    assert row["cancelled_at"] is None


def test_a_taken_slot_is_refused_with_a_spoken_error(client: FlaskClient, database: str) -> None:
    call_tool(client, "bookAppointment", booking(), call_id="first")
    response = post(
        client,
        payloads.make_tool_calls(("bookAppointment", booking(patientName="John Smith"), "second")),
    )
    assert response.status_code == 200
    [result] = response.get_json()["results"]
    assert result["toolCallId"] == "second"
    assert "result" not in result
    assert result["error"] == (
        f"10:30 on {MONDAY:%A} {MONDAY.day} {MONDAY:%B} is already taken. "
        "Please choose another time."
    )
    assert [row["patient_name"] for row in query(database, "SELECT * FROM appointments")] == [
        "Maria Gonzalez"
    ]


def test_a_redelivered_tool_call_books_once(client: FlaskClient, database: str) -> None:
    first = call_tool(client, "bookAppointment", booking(), call_id="same-id")
    again = call_tool(client, "bookAppointment", booking(), call_id="same-id")
    assert again == first
    assert "confirmation number is 1" in first["result"]
    assert len(query(database, "SELECT * FROM appointments")) == 1


@pytest.mark.parametrize(
    ("arguments", "field", "problem"),
    [
        (booking(date="next Tuesday"), "date", "Not a valid date"),
        (booking(date="08/09/2026"), "date", "Not a valid date"),
        (booking(time="half past ten"), "time", "Not a valid time"),
        ({"date": MONDAY.isoformat(), "time": "10:30"}, "patientName", "Missing data"),
        (booking(patientName=""), "patientName", "Length must be between 1 and 100"),
        ({"patientName": "Maria Gonzalez", "time": "10:30"}, "date", "Missing data"),
    ],
)
def test_invalid_arguments_name_the_field(
    client: FlaskClient, database: str, arguments: dict[str, Any], field: str, problem: str
) -> None:
    result = call_tool(client, "bookAppointment", arguments)
    assert result["error"].startswith("Invalid arguments for tool 'bookAppointment': ")
    assert f"{field}: {problem}" in result["error"]
    assert query(database, "SELECT * FROM appointments") == []


@pytest.mark.parametrize(
    ("day", "time", "problem"),
    [
        (SATURDAY, "10:00", "closed on Saturdays"),
        (MONDAY, "10:15", "on the hour or half hour"),
        (MONDAY, "08:30", "on the hour or half hour"),
        (MONDAY, "17:00", "on the hour or half hour"),
        (LAST_MONDAY, "10:00", "already passed"),
    ],
)
def test_closed_off_grid_and_past_slots_are_refused(
    client: FlaskClient, database: str, day: dt.date, time: str, problem: str
) -> None:
    result = call_tool(client, "bookAppointment", booking(time, day))
    assert problem in result["error"]
    assert query(database, "SELECT * FROM appointments") == []


def test_legacy_function_call_books_too(client: FlaskClient, database: str) -> None:
    message = payloads.make_function_call(name="bookAppointment", parameters=booking("11:00"))
    response = post(client, message)
    assert response.status_code == 200
    assert "at 11:00. The confirmation number is 1." in response.get_json()["result"]
    [row] = query(database, "SELECT * FROM appointments")
    assert (row["starts_at"], row["tool_call_id"]) == (f"{MONDAY.isoformat()}T11:00", None)


# -- cancelAppointment -------------------------------------------------------------------------


def test_cancelling_frees_the_slot(client: FlaskClient, database: str) -> None:
    call_tool(client, "bookAppointment", booking())
    slot = {"date": MONDAY.isoformat(), "time": "10:30"}
    result = call_tool(client, "cancelAppointment", slot)
    assert result["result"].endswith("at 10:30 is cancelled.")
    [row] = query(database, "SELECT * FROM appointments")
    assert row["cancelled_at"] is not None
    assert "10:30" in free_times(client)
    assert "result" in call_tool(client, "bookAppointment", booking(patientName="John Smith"))


def test_only_the_booking_phone_can_cancel(client: FlaskClient, database: str) -> None:
    call_tool(client, "bookAppointment", booking())
    slot = {"date": MONDAY.isoformat(), "time": "10:30"}
    other = {"customer": {"number": OTHER_CALLER}, "call": {"id": "call-from-another-phone"}}
    result = call_tool(client, "cancelAppointment", slot, **other)
    assert "could not find an appointment" in result["error"]
    assert query(database, "SELECT cancelled_at FROM appointments") == [{"cancelled_at": None}]


# -- assistant-request -------------------------------------------------------------------------


def test_assistant_request_picks_the_assistant_by_caller(database: str) -> None:
    app = create_app(
        {
            "TESTING": True,
            "VAPI_SECRET": SECRET,
            "CLINIC_DATABASE": database,
            "CLINIC_NEW_PATIENT_ASSISTANT_ID": "asst-new",
            "CLINIC_RETURNING_ASSISTANT_ID": "asst-returning",
        }
    )
    client = app.test_client()
    response = post(client, payloads.make_assistant_request())
    assert response.status_code == 200
    assert response.get_json() == {"assistantId": "asst-new"}

    call_tool(client, "bookAppointment", booking())
    assert post(client, payloads.make_assistant_request()).get_json() == {
        "assistantId": "asst-returning",
        "assistantOverrides": {"variableValues": {"patientName": "Maria Gonzalez"}},
    }
    other = payloads.make_assistant_request(customer={"number": OTHER_CALLER})
    assert post(client, other).get_json() == {"assistantId": "asst-new"}


def test_assistant_ids_have_placeholder_defaults(client: FlaskClient) -> None:
    response = post(client, payloads.make_assistant_request())
    assert response.get_json() == {"assistantId": "new-patient-assistant-id"}


# -- call records ------------------------------------------------------------------------------


def test_end_of_call_report_is_stored(client: FlaskClient, database: str) -> None:
    message = payloads.make_end_of_call_report(ended_reason="assistant-ended-call")
    assert post(client, message).status_code == 200
    [row] = query(database, "SELECT * FROM calls")
    assert row["call_id"] == payloads.CALL_ID
    assert row["customer_number"] == CALLER
    assert row["status"] == "ended"
    assert row["ended_reason"] == "assistant-ended-call"
    assert row["summary"] == message["analysis"]["summary"]
    assert row["transcript"] == message["artifact"]["transcript"]
    assert row["transcript"].startswith("AI: ")
    assert row["cost"] == pytest.approx(message["cost"])
    assert (row["started_at"], row["ended_at"]) == (message["startedAt"], message["endedAt"])


def test_status_updates_are_upserted_and_logged(client: FlaskClient, database: str) -> None:
    for status in ("ringing", "in-progress"):
        assert post(client, payloads.make_status_update(status=status)).status_code == 200
    [row] = query(database, "SELECT * FROM calls")
    assert (row["call_id"], row["status"], row["customer_number"]) == (
        payloads.CALL_ID,
        "in-progress",
        CALLER,
    )
    post(client, payloads.make_status_update(status="ended"))
    [row] = query(database, "SELECT * FROM calls")
    assert (row["status"], row["ended_reason"]) == ("ended", "customer-ended-call")
    events = query(database, "SELECT status, ended_reason FROM status_events ORDER BY id")
    assert events == [
        {"status": "ringing", "ended_reason": None},
        {"status": "in-progress", "ended_reason": None},
        {"status": "ended", "ended_reason": "customer-ended-call"},
    ]


def test_a_late_status_update_does_not_reopen_an_ended_call(
    client: FlaskClient, database: str
) -> None:
    post(client, payloads.make_end_of_call_report())
    post(client, payloads.make_status_update(status="in-progress"))
    [row] = query(database, "SELECT status, summary FROM calls")
    assert row["status"] == "ended"
    assert row["summary"]  # the report's data is kept
    assert len(query(database, "SELECT * FROM status_events")) == 1


def test_receivers_only_act_for_their_own_app(tmp_path: Path) -> None:
    first, second = str(tmp_path / "first.sqlite3"), str(tmp_path / "second.sqlite3")
    app = create_app({"TESTING": True, "VAPI_SECRET": SECRET, "CLINIC_DATABASE": first})
    other = create_app({"TESTING": True, "VAPI_SECRET": SECRET, "CLINIC_DATABASE": second})
    post(app.test_client(), payloads.make_status_update(status="ringing"))
    post(app.test_client(), payloads.make_end_of_call_report())
    assert len(query(first, "SELECT * FROM calls")) == 1
    assert len(query(first, "SELECT * FROM status_events")) == 1
    # The other app (alive, with its receivers connected) saw none of it.
    assert query(second, "SELECT * FROM calls") == []
    assert query(second, "SELECT * FROM status_events") == []
    post(other.test_client(), payloads.make_status_update(status="ringing"))
    assert len(query(second, "SELECT * FROM status_events")) == 1
    assert len(query(first, "SELECT * FROM status_events")) == 1


def test_other_vapi_apps_in_the_process_are_unaffected(app: Flask) -> None:
    other = Flask("other")
    other.config.update(TESTING=True, VAPI_SECRET=SECRET)
    other.register_blueprint(VapiBlueprint("other_vapi"))
    failures: list[BaseException] = []

    def on_error(sender: Flask, exception: BaseException, **extra: Any) -> None:
        failures.append(exception)

    with signals.handler_error.connected_to(on_error):
        for message in (payloads.make_status_update(), payloads.make_end_of_call_report()):
            assert post(other.test_client(), message).status_code == 200
    assert failures == []  # the clinic's receivers did not run for (and fail on) this app
    assert query(app.config["CLINIC_DATABASE"], "SELECT * FROM calls") == []


def test_create_app_twice_does_not_double_connect_receivers(database: str) -> None:
    config = {"TESTING": True, "VAPI_SECRET": SECRET, "CLINIC_DATABASE": database}
    apps = [create_app(config) for _ in range(3)]  # all alive, all on the same database
    post(apps[-1].test_client(), payloads.make_status_update(status="ringing"))
    assert len(query(database, "SELECT * FROM status_events")) == 1


# -- configuration -----------------------------------------------------------------------------


def test_requests_without_the_secret_are_refused(client: FlaskClient, database: str) -> None:
    assert post(client, payloads.make_tool_calls(), secret="wrong").status_code == 401
    response = client.post("/vapi/webhook", json=payloads.wrap(payloads.make_status_update()))
    assert response.status_code == 401
    assert query(database, "SELECT * FROM appointments") == []
    assert query(database, "SELECT * FROM calls") == []


def test_the_secret_comes_from_the_environment(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAPI_SECRET", "from-the-environment")
    client = create_app({"TESTING": True, "CLINIC_DATABASE": database}).test_client()
    message = payloads.make_assistant_request()
    assert post(client, message, "from-the-environment").status_code == 200
    assert post(client, message, DEV_SECRET).status_code == 401


def test_without_a_secret_the_dev_default_is_used_with_a_warning(
    database: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("VAPI_SECRET", raising=False)
    with caplog.at_level(logging.WARNING):
        app = create_app({"CLINIC_DATABASE": database})
    assert "VAPI_SECRET is the development default" in caplog.text
    assert post(app.test_client(), payloads.make_assistant_request(), DEV_SECRET).status_code == 200


def test_the_database_and_its_folder_are_created(tmp_path: Path) -> None:
    database = tmp_path / "instance" / "nested" / "clinic.sqlite3"
    create_app({"TESTING": True, "VAPI_SECRET": SECRET, "CLINIC_DATABASE": str(database)})
    tables = query(str(database), "SELECT name FROM sqlite_master WHERE type = 'table'")
    assert {"appointments", "calls", "status_events"} <= {row["name"] for row in tables}


def test_data_survives_a_restart(database: str) -> None:
    config = {"TESTING": True, "VAPI_SECRET": SECRET, "CLINIC_DATABASE": database}
    call_tool(create_app(config).test_client(), "bookAppointment", booking())
    assert "10:30" not in free_times(create_app(config).test_client())


def test_a_web_call_cancels_what_it_booked_in_the_same_call(
    client: FlaskClient, database: str
) -> None:
    web = {"customer": {}}  # no phone number: a web call
    call_tool(client, "bookAppointment", booking(), **web)
    slot = {"date": MONDAY.isoformat(), "time": "10:30"}
    other_call = call_tool(client, "cancelAppointment", slot, call={"id": "another-call"}, **web)
    assert "only cancel appointments when you call from your phone" in other_call["error"]
    result = call_tool(client, "cancelAppointment", slot, **web)
    assert result["result"].endswith("at 10:30 is cancelled.")
