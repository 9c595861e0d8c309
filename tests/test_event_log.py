"""The event log: what a webhook leaves in the store, redacted, bounded, never failing a call."""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable

import pytest
from flask import Flask

from flask_vapi import VapiBlueprint, payloads
from flask_vapi.errors import ConfigurationError
from flask_vapi.replay import replay_event
from flask_vapi.store import StoreError
from flask_vapi.store.eventlog import EventLog
from flask_vapi.store.memory import MemoryStore
from flask_vapi.testing import VapiClient
from tests.conftest import SECRET

CONTROL_URL = (
    "https://phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai/abc123/control"
)
LISTEN_URL = "wss://phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai/abc123/listen"


@pytest.fixture
def booked() -> list[str]:
    return []


@pytest.fixture
def vapi(booked: list[str]) -> VapiBlueprint:
    vapi = VapiBlueprint()

    @vapi.tool("bookAppointment")
    def book(date: str) -> str:
        booked.append(date)
        return f"Booked for {date}."

    @vapi.tool("slowLookup", timeout=0.2)
    def slow() -> str:
        time.sleep(0.6)
        return "too late"

    @vapi.tool("broken")
    def broken() -> str:
        raise RuntimeError("the calendar is down")

    @vapi.on("status-update")
    def on_status(message: Any) -> None:
        if message.status == "ended":
            raise ValueError("status receiver failed")

    return vapi


@pytest.fixture
def app(make_app: Callable[..., Flask], vapi: VapiBlueprint) -> Flask:
    app = make_app(vapi, VAPI_EVENT_LOG=True)
    app.test_client_class = VapiClient
    return app


def events_of(app: Flask, vapi: VapiBlueprint, call_id: str) -> list[dict[str, Any]]:
    log = vapi.event_log(app)
    assert log is not None
    assert log.flush()
    return log.events(call_id)


def new_call(number: int) -> dict[str, Any]:
    """A status update of a call of its own."""
    payload = payloads.make_status_update()
    payload["call"] = {**payload["call"], "id": f"call-{number}"}
    return payload


def call_of(payload: dict[str, Any]) -> str:
    call_id: str = payload["call"]["id"]
    return call_id


def test_a_tool_call_is_recorded_with_its_arguments_result_timing_and_budget(
    app: Flask, vapi: VapiBlueprint
) -> None:
    payload = payloads.make_tool_calls(("bookAppointment", {"date": "2026-09-08"}, "tc-1"))
    reply = app.test_client().send_message(payload)
    assert reply.status_code == 200
    (event,) = events_of(app, vapi, call_of(payload))
    assert event["type"] == "tool-calls"
    assert event["call_id"] == call_of(payload)
    assert event["status"] == 200
    assert event["answer"] == reply.json
    assert event["budget_ms"] == 18000.0  # VAPI_SERVER_TIMEOUT 20 s minus the 2 s margin
    assert 0 < event["ms"] < 18000
    (tool,) = event["tools"]
    assert tool["id"] == "tc-1"
    assert tool["name"] == "bookAppointment"
    assert tool["arguments"] == {"date": "2026-09-08"}
    assert tool["result"] == "Booked for 2026-09-08."
    assert tool["outcome"] == "ok"
    assert 0 <= tool["ms"] <= event["ms"]
    assert tool["budget_ms"] == 18000.0
    assert event["body"]["message"]["toolCallList"][0]["id"] == "tc-1"
    assert event["deadline"] is False and event["duplicate"] is False


def test_timeouts_failures_and_unknown_tools_are_recorded_per_call(
    app: Flask, vapi: VapiBlueprint
) -> None:
    payload = payloads.make_tool_calls(
        ("slowLookup", {}, "tc-slow"), ("broken", {}, "tc-broken"), ("nope", {}, "tc-nope")
    )
    app.test_client().send_message(payload)
    (event,) = events_of(app, vapi, call_of(payload))
    outcomes = {tool["id"]: tool for tool in event["tools"]}
    assert outcomes["tc-slow"]["outcome"] == "timeout"
    assert outcomes["tc-slow"]["ms"] is None
    assert outcomes["tc-slow"]["budget_ms"] == 200.0
    assert outcomes["tc-slow"]["error"] == "The tool 'slowLookup' did not finish in time."
    assert outcomes["tc-broken"]["outcome"] == "error"
    assert outcomes["tc-nope"]["outcome"] == "unknown"
    assert event["deadline"] is True
    failures = {failure["exception"]: failure for failure in event["errors"]}
    assert set(failures) == {"DeadlineExceeded", "RuntimeError"}
    assert "the calendar is down" in failures["RuntimeError"]["traceback"]
    assert failures["RuntimeError"]["traceback"].startswith("Traceback (most recent call last)")
    assert failures["RuntimeError"]["handler"].endswith("broken")


def test_receivers_are_recorded_with_their_failures(app: Flask, vapi: VapiBlueprint) -> None:
    payload = payloads.make_status_update(status="ended")
    app.test_client().send_message(payload)
    (event,) = events_of(app, vapi, call_of(payload))
    (receiver,) = event["receivers"]
    assert receiver["name"].endswith("on_status")
    assert receiver["error"] == "ValueError: status receiver failed"
    assert receiver["ms"] >= 0
    assert [failure["message"] for failure in event["errors"]] == ["status receiver failed"]


def test_a_redelivery_is_recorded_as_a_duplicate(app: Flask, vapi: VapiBlueprint) -> None:
    payload = payloads.make_status_update()
    client = app.test_client()
    client.send_message(payload)
    client.send_message(payload)
    first, second = events_of(app, vapi, call_of(payload))
    assert (first["duplicate"], second["duplicate"]) == (False, True)


def test_rejections_are_recorded_without_unauthenticated_content(
    app: Flask, vapi: VapiBlueprint
) -> None:
    client = app.test_client()
    unauthenticated = payloads.make_status_update()
    assert client.send_message(unauthenticated, sign=False).status_code == 401
    invalid = {"message": {"type": "tool-calls", "call": {"id": "call-422"}}}
    assert client.send_message(invalid).status_code == 422
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    (rejected_401,) = log.events("-")
    assert rejected_401["status"] == 401
    assert rejected_401["body"] is None
    assert rejected_401["rejected"]["code"] == "unauthorized"
    (rejected_422,) = log.events("call-422")
    assert rejected_422["status"] == 422
    assert rejected_422["type"] == "tool-calls"
    assert rejected_422["body"] == invalid


def test_secrets_and_capability_urls_never_reach_the_store(
    make_app: Callable[..., Flask], vapi: VapiBlueprint
) -> None:
    app = make_app(vapi, VAPI_EVENT_LOG=True, VAPI_CONTROL_TOKEN="control-token-abcdef")
    app.test_client_class = VapiClient
    payload = payloads.make_end_of_call_report()
    call = payload["call"]
    call["monitor"] = {"controlUrl": CONTROL_URL, "listenUrl": LISTEN_URL}
    call["assistant"] = {"server": {"headers": {"X-Vapi-Secret": "hdr-secret-value-1234"}}}
    payload["summary"] = f"The caller read out {SECRET} and control-token-abcdef."
    payload["note"] = "Authorization: Bearer abcdefghijklmnop1234"
    app.test_client().send_message(payload)
    events = events_of(app, vapi, call_of(payload))
    store = app.extensions["vapi"]["vapi"].store
    assert isinstance(store, MemoryStore)
    everything = repr(store._data)  # every key and value the store holds
    for secret in (
        SECRET,
        "control-token-abcdef",
        "hdr-secret-value-1234",
        "abcdefghijklmnop1234",
        CONTROL_URL,
        LISTEN_URL,
        "abc123/control",
    ):
        assert secret not in everything
    message = events[0]["body"]["message"]
    assert message["call"]["monitor"]["controlUrl"] == "<redacted capability URL>"
    assert message["call"]["assistant"]["server"]["headers"]["X-Vapi-Secret"] == "<redacted>"
    assert message["summary"] == "The caller read out <redacted> and <redacted>."


def test_the_call_summary_follows_the_call(app: Flask, vapi: VapiBlueprint) -> None:
    client = app.test_client()
    start = payloads.make_status_update(status="in-progress")
    call = start["call"]
    client.send_message(start)
    report = payloads.make_end_of_call_report(call=call, endedReason="customer-ended-call")
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    live = log.call(call["id"])
    assert live is not None and live["live"] is True and live["ended_reason"] is None
    client.send_message(report)
    assert log.flush()
    summary = log.call(call["id"])
    assert summary is not None
    assert summary["live"] is False
    assert summary["events"] == 2
    assert summary["ended_reason"] == "customer-ended-call"
    assert summary["duration_s"] == report["durationSeconds"]
    assert summary["caller"] == call["customer"]["number"]
    assert [s["call_id"] for s in log.calls()] == [call["id"]]


def test_calls_are_listed_newest_first(app: Flask, vapi: VapiBlueprint) -> None:
    client = app.test_client()
    sent = [new_call(i) for i in range(3)]
    for payload in sent:
        client.send_message(payload)
        time.sleep(0.002)  # distinct arrival times
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    assert [s["call_id"] for s in log.calls()] == [call_of(p) for p in reversed(sent)]
    assert [s["call_id"] for s in log.calls(limit=2)] == [call_of(p) for p in sent[:0:-1]]


def test_a_call_keeps_its_last_max_events(
    make_app: Callable[..., Flask], vapi: VapiBlueprint
) -> None:
    app = make_app(vapi, VAPI_EVENT_LOG=True, VAPI_EVENT_LOG_MAX_EVENTS=3)
    app.test_client_class = VapiClient
    client = app.test_client()
    first = payloads.make_status_update()
    call = first["call"]
    sent = [first] + [payloads.make_transcript(call=call) for _ in range(4)]
    for payload in sent:
        client.send_message(payload)
    events = events_of(app, vapi, call["id"])
    assert [event["type"] for event in events] == ["transcript"] * 3
    assert [event["at"] for event in events] == sorted(event["at"] for event in events)
    log = vapi.event_log(app)
    assert log is not None
    summary = log.call(call["id"])
    assert summary is not None and summary["events"] == 5  # counted, though not all kept


def test_the_log_lists_the_last_max_calls(
    make_app: Callable[..., Flask], vapi: VapiBlueprint
) -> None:
    app = make_app(vapi, VAPI_EVENT_LOG=True, VAPI_EVENT_LOG_MAX_CALLS=2)
    app.test_client_class = VapiClient
    sent = [new_call(i) for i in range(3)]
    for payload in sent:
        app.test_client().send_message(payload)
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    assert {s["call_id"] for s in log.calls()} == {call_of(p) for p in sent[1:]}


@pytest.mark.parametrize(
    ("config", "debug", "on"),
    [({}, False, False), ({}, True, True), ({"VAPI_EVENT_LOG": False}, True, False)],
)
def test_the_log_is_on_while_debugging_unless_set(
    make_app: Callable[..., Flask], config: dict[str, Any], debug: bool, on: bool
) -> None:
    vapi = VapiBlueprint()
    app = make_app(vapi, **config)
    app.debug = debug
    app.test_client_class = VapiClient
    payload = payloads.make_status_update()
    app.test_client().send_message(payload)
    log = vapi.event_log(app)
    assert (log is not None) is on
    if log is not None:
        assert log.flush()
        assert len(log.events(call_of(payload))) == 1
    app.debug = True
    if config.get("VAPI_EVENT_LOG") is None:  # unset: follows app.debug as it is now
        assert vapi.event_log(app) is not None


class BrokenStore(MemoryStore):
    def append(self, *args: Any, **kwargs: Any) -> int:
        raise StoreError("disk full")


def test_a_store_failure_never_fails_the_webhook(
    caplog: pytest.LogCaptureFixture, vapi: VapiBlueprint, app: Flask
) -> None:
    log = vapi.event_log(app)
    assert log is not None
    log.store = BrokenStore()
    payload = payloads.make_tool_calls(("bookAppointment", {"date": "2026-09-08"}))
    with caplog.at_level(logging.WARNING, "flask_vapi"):
        reply = app.test_client().send_message(payload)
        assert log.flush()
    assert reply.status_code == 200
    assert reply.json["results"][0]["result"] == "Booked for 2026-09-08."
    assert any("could not write 1 event(s)" in r.getMessage() for r in caplog.records)


def test_events_survive_in_a_sqlite_store_across_processes_instances(tmp_path: Any) -> None:
    from flask_vapi.store import open_store

    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    vapi = VapiBlueprint()
    app = Flask("sqlite_log")
    app.config.update(VAPI_SECRET=SECRET, VAPI_EVENT_LOG=True, VAPI_STORE_URL=url)
    app.register_blueprint(vapi)
    app.test_client_class = VapiClient
    payload = payloads.make_status_update()
    app.test_client().send_message(payload)
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    other = EventLog(open_store(url), namespace="VAPI_", max_age=60, max_events=10)
    (event,) = other.events(call_of(payload))
    assert event["type"] == "status-update"
    assert [s["call_id"] for s in other.calls()] == [call_of(payload)]


def test_a_replay_is_not_recorded_and_not_deduplicated(
    app: Flask, vapi: VapiBlueprint, booked: list[str]
) -> None:
    payload = payloads.make_tool_calls(("bookAppointment", {"date": "2026-09-08"}))
    app.test_client().send_message(payload)
    (event,) = events_of(app, vapi, call_of(payload))
    replayed = replay_event(app, vapi, event)
    assert replayed.status == 200
    assert replayed.same is True
    assert replayed.answer == event["answer"]
    assert booked == ["2026-09-08", "2026-09-08"]  # the handler ran again
    assert len(events_of(app, vapi, call_of(payload))) == 1


def test_a_replay_shows_a_changed_answer(app: Flask, vapi: VapiBlueprint) -> None:
    payload = payloads.make_tool_calls(("bookAppointment", {"date": "2026-09-08"}))
    app.test_client().send_message(payload)
    (event,) = events_of(app, vapi, call_of(payload))
    event = json.loads(json.dumps(event))
    event["answer"]["results"][0]["result"] = "Booked for another day."
    replayed = replay_event(app, vapi, event)
    assert replayed.same is False
    assert replayed.answer["results"][0]["result"] == "Booked for 2026-09-08."


def test_an_event_without_a_body_cannot_be_replayed(app: Flask, vapi: VapiBlueprint) -> None:
    with pytest.raises(ValueError, match="no recorded body"):
        replay_event(app, vapi, {"id": "x", "body": None, "status": 401, "answer": None})


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("VAPI_EVENT_LOG", "yes", "VAPI_EVENT_LOG"),
        ("VAPI_EVENT_LOG_MAX_AGE", 0, "VAPI_EVENT_LOG_MAX_AGE"),
        ("VAPI_EVENT_LOG_MAX_EVENTS", 0, "VAPI_EVENT_LOG_MAX_EVENTS"),
        ("VAPI_EVENT_LOG_MAX_CALLS", -1, "VAPI_EVENT_LOG_MAX_CALLS"),
        ("VAPI_INSPECTOR_TOKEN", "short", "at least 16 characters"),
    ],
)
def test_event_log_settings_are_checked_at_registration(
    make_app: Callable[..., Flask], key: str, value: Any, says: str
) -> None:
    with pytest.raises(ConfigurationError, match=says):
        make_app(VapiBlueprint(), **{key: value})


def test_recorded_calls_expire_after_max_age(
    make_app: Callable[..., Flask], vapi: VapiBlueprint
) -> None:
    from tests.store.test_expiry import eventually

    app = make_app(vapi, VAPI_EVENT_LOG=True, VAPI_EVENT_LOG_MAX_AGE=0.3)
    app.test_client_class = VapiClient
    payload = payloads.make_status_update()
    app.test_client().send_message(payload)
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    assert len(log.events(call_of(payload))) == 1
    assert eventually(lambda: log.events(call_of(payload)) == [] and log.calls() == [])


class RaisingObserver:
    """An observer (OpenTelemetry's place) whose finish() fails."""

    def active(self) -> bool:
        return True

    def start(self, app: Flask, trace: Any) -> None:
        pass

    def finish(self, app: Flask, trace: Any) -> None:
        raise RuntimeError("exporter exploded")


def test_a_failing_observer_never_fails_the_webhook(
    caplog: pytest.LogCaptureFixture, vapi: VapiBlueprint, app: Flask
) -> None:
    import dataclasses

    observers = app.extensions["vapi_observers"][vapi.name]
    app.extensions["vapi_observers"][vapi.name] = dataclasses.replace(
        observers, others=(RaisingObserver(),)
    )
    payload = payloads.make_tool_calls(("bookAppointment", {"date": "2026-09-09"}))
    with caplog.at_level(logging.WARNING, "flask_vapi"):
        reply = app.test_client().send_message(payload)
    assert reply.status_code == 200
    assert reply.json["results"][0]["result"] == "Booked for 2026-09-09."
    assert [r.getMessage() for r in caplog.records] == [
        "A flask-vapi observer failed: RuntimeError: exporter exploded"
    ]
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    assert len(log.events(call_of(payload))) == 1  # the other observer still recorded it


def test_an_event_that_cannot_be_encoded_is_lost_alone(
    caplog: pytest.LogCaptureFixture,
    vapi: VapiBlueprint,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flask_vapi.store import eventlog

    real = eventlog.encode_event

    def encode(trace: Any) -> bytes:
        if trace.message_type == "transcript":
            raise ValueError("no one foresaw this payload")
        return real(trace)

    monkeypatch.setattr(eventlog, "encode_event", encode)
    first, second = payloads.make_transcript(), payloads.make_status_update()
    second["call"] = first["call"]
    with caplog.at_level(logging.WARNING, "flask_vapi"):
        assert app.test_client().send_message(first).status_code == 200
        assert app.test_client().send_message(second).status_code == 200
        log = vapi.event_log(app)
        assert log is not None and log.flush()
    assert [e["type"] for e in log.events(call_of(first))] == ["status-update"]
    assert any("could not record a webhook" in r.getMessage() for r in caplog.records)


def test_a_log_that_falls_behind_drops_events_not_webhooks(
    caplog: pytest.LogCaptureFixture,
    vapi: VapiBlueprint,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flask_vapi.store import eventlog

    monkeypatch.setattr(eventlog, "QUEUE_LIMIT", 0)  # as if 10,000 events were waiting
    with caplog.at_level(logging.WARNING, "flask_vapi"):
        reply = app.test_client().send_message(payloads.make_status_update())
    assert reply.status_code == 200 and reply.json == {}
    assert [r.getMessage() for r in caplog.records] == [
        "The flask-vapi event log is behind: 1 events dropped so far."
    ]
