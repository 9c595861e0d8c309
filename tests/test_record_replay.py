"""Record and replay: ``flask vapi export`` / ``replay`` and ``testing.replay_call``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_vapi import VapiBlueprint, payloads
from flask_vapi.testing import VapiClient, replay_call
from tests.conftest import SECRET


class Clinic:
    """A booking tool whose answer a test can change, counting its runs."""

    def __init__(self) -> None:
        self.runs = 0
        self.confirmation = "RFC-48213"


def make_app(clinic: Clinic) -> tuple[Flask, VapiBlueprint]:
    vapi = VapiBlueprint()

    @vapi.tool("bookAppointment")
    def book(date: str) -> str:
        clinic.runs += 1
        return f"Booked for {date}. Confirmation {clinic.confirmation}."

    app = Flask("recorded")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET, VAPI_EVENT_LOG=True)
    app.register_blueprint(vapi)
    app.test_client_class = VapiClient
    return app, vapi


def record(app: Flask, vapi: VapiBlueprint) -> str:
    client = app.test_client()
    start = payloads.make_status_update(status="in-progress")
    call = start["call"]
    client.send_message(start)
    client.send_message(
        payloads.make_tool_calls(("bookAppointment", {"date": "2026-12-08"}), call=call)
    )
    client.send_message(payloads.make_end_of_call_report(call=call))
    client.send_message(payloads.make_status_update(), sign=False)  # a 401, no body: skipped
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    call_id: str = call["id"]
    return call_id


@pytest.fixture
def clinic() -> Clinic:
    return Clinic()


@pytest.fixture
def exported(clinic: Clinic, tmp_path: Path) -> tuple[Flask, VapiBlueprint, Path, str]:
    app, vapi = make_app(clinic)
    call_id = record(app, vapi)
    result = app.test_cli_runner().invoke(args=["vapi", "export", call_id])
    assert result.exit_code == 0, result.output
    path = tmp_path / "call.jsonl"
    path.write_text(result.output, encoding="utf-8")
    return app, vapi, path, call_id


def test_export_writes_one_redacted_event_per_line(
    exported: tuple[Flask, VapiBlueprint, Path, str],
) -> None:
    _, _, path, call_id = exported
    lines = path.read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    assert [event["type"] for event in events] == [
        "status-update",
        "tool-calls",
        "end-of-call-report",
    ]
    assert all(event["call_id"] == call_id for event in events)
    assert events[1]["answer"]["results"][0]["result"] == (
        "Booked for 2026-12-08. Confirmation RFC-48213."
    )
    assert SECRET not in path.read_text(encoding="utf-8")


def test_replaying_an_unchanged_app_passes_and_runs_the_tools_again(
    exported: tuple[Flask, VapiBlueprint, Path, str], clinic: Clinic
) -> None:
    app, vapi, path, call_id = exported
    result = app.test_cli_runner().invoke(args=["vapi", "replay", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 messages replayed, 0 with a different answer." in result.output
    assert clinic.runs == 2  # not deduplicated: the tool ran again
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    assert len(log.events(call_id)) == 3  # and the original record is untouched


def test_a_changed_answer_fails_the_replay_with_a_diff(
    exported: tuple[Flask, VapiBlueprint, Path, str], clinic: Clinic
) -> None:
    app, _, path, _ = exported
    clinic.confirmation = "RFC-99999"
    result = app.test_cli_runner().invoke(args=["vapi", "replay", str(path)])
    assert result.exit_code == 1
    assert "tool-calls" in result.output and "DIFFERS" in result.output
    removed = [line for line in result.output.splitlines() if line.startswith("-  ")]
    added = [line for line in result.output.splitlines() if line.startswith("+  ")]
    assert [line.split('"result": ')[-1] for line in removed] == [
        '"Booked for 2026-12-08. Confirmation RFC-48213."'
    ]
    assert [line.split('"result": ')[-1] for line in added] == [
        '"Booked for 2026-12-08. Confirmation RFC-99999."'
    ]
    assert "3 messages replayed, 1 with a different answer." in result.output


def test_replay_call_in_pytest(
    exported: tuple[Flask, VapiBlueprint, Path, str], clinic: Clinic
) -> None:
    app, _, path, _ = exported
    replayed = replay_call(app, path)
    assert [r.same for r in replayed] == [True, True, True]
    clinic.confirmation = "RFC-99999"
    with pytest.raises(AssertionError, match=r"1 of 3 replayed answers changed") as raised:
        replay_call(app, path)
    assert "message 2 (tool-calls)" in str(raised.value)
    assert "RFC-99999" in str(raised.value)


def test_export_explains_an_unknown_call_and_a_log_that_is_off(clinic: Clinic) -> None:
    app, _ = make_app(clinic)
    unknown = app.test_cli_runner().invoke(args=["vapi", "export", "no-such-call"])
    assert unknown.exit_code == 1 and "No recorded call 'no-such-call'" in unknown.output
    off = Flask("off")
    off.config.update(TESTING=True, VAPI_SECRET=SECRET, VAPI_EVENT_LOG=False)
    off.register_blueprint(VapiBlueprint())
    result = off.test_cli_runner().invoke(args=["vapi", "export", "x"])
    assert result.exit_code == 1 and "VAPI_EVENT_LOG = True" in result.output


@pytest.mark.parametrize(
    ("text", "says"),
    [("not json\n", "line 1 is not JSON"), ('{"id": "x"}\n', "line 1 is not a recorded event")],
)
def test_replay_refuses_a_file_that_is_not_an_export(
    clinic: Clinic, tmp_path: Path, text: str, says: str
) -> None:
    app, _ = make_app(clinic)
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["vapi", "replay", str(path)])
    assert result.exit_code == 1 and says in result.output


def test_help_says_the_real_handlers_run(clinic: Clinic) -> None:
    app, _ = make_app(clinic)
    result: Any = app.test_cli_runner().invoke(args=["vapi", "replay", "--help"])
    assert "real handlers" in result.output
