"""The README's examples run and do what the README says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask

from flask_vapi import payloads as p

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def run_block(index: int, **given: Any) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "readme_example", **given}
    exec(compile(BLOCKS[index], f"README block {index}", "exec"), namespace)
    return namespace


def test_first_example(capsys: Any) -> None:
    namespace = run_block(0)
    app: Flask = namespace["app"]
    app.config["TESTING"] = True
    client = app.test_client()
    headers = {"X-Vapi-Secret": "the secret your Vapi credential sends"}
    tool = client.post(
        "/vapi/webhook",
        json=p.wrap(p.make_tool_calls(("sendEmail", {"emailAddress": "a@b.c", "message": "hi"}))),
        headers=headers,
    )
    assert tool.get_json()["results"][0]["result"] == "Email sent."
    pick = client.post("/vapi/webhook", json=p.wrap(p.make_assistant_request()), headers=headers)
    assert pick.get_json() == {"assistantId": "5b1c0c9e-2c4e-4a56-9f14-0d7d5a3d8e11"}
    report = client.post(
        "/vapi/webhook",
        json=p.wrap(p.make_end_of_call_report(ended_reason="customer-ended-call")),
        headers=headers,
    )
    assert report.status_code == 200
    assert capsys.readouterr().out.startswith("customer-ended-call AI: ")


def test_tools_example() -> None:
    namespace = run_block(2)
    app = Flask("readme_tools")
    app.config.update(TESTING=True, VAPI_SECRET="s")
    app.register_blueprint(namespace["vapi"])
    response = app.test_client().post(
        "/vapi/webhook",
        json=p.wrap(
            p.make_tool_calls(
                ("bookAppointment", {"date": "2026-12-01", "time": "10:00"}),
                ("bookAppointment", {"date": "2026-12-01", "time": "08:00"}),
                ("bookAppointment", {"time": "10:00"}),
            )
        ),
        headers={"X-Vapi-Secret": "s"},
    )
    ok, early, invalid = response.get_json()["results"]
    assert ok["result"] == f'{{"booked":"2026-12-01 10:00","for":"{p.CUSTOMER_NUMBER}"}}'
    assert ok["message"] == {"type": "request-complete", "content": "You're booked!"}
    assert ok["metadata"] == {"toolCallId": ok["toolCallId"]}
    assert early["error"] == "We open at nine. Would 9:00 work?"
    assert "date: Missing data for required field." in invalid["error"]


def test_the_quickstart_commands_are_in_ci() -> None:
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.*?)\n```", README)
    assert commands[0] in ci  # run the example
    assert commands[1] in ci  # run the tests


def test_testing_example(make_app: Any) -> None:
    index = next(i for i, block in enumerate(BLOCKS) if "def test_status_is_stored" in block)
    namespace = run_block(index)
    namespace["test_status_is_stored"](make_app())


def test_configuration_error_example() -> None:
    index = next(i for i, block in enumerate(BLOCKS) if "ConfigurationError, match=" in block)
    run_block(index)


def test_receiving_example(capsys: Any) -> None:
    from flask_vapi import VapiBlueprint

    index = next(i for i, block in enumerate(BLOCKS) if "def save_report" in block)
    vapi = VapiBlueprint()
    run_block(index, vapi=vapi)
    app = Flask("readme_receiving")
    app.config.update(TESTING=True, VAPI_SECRET="s")
    app.register_blueprint(vapi)
    client = app.test_client()
    for message in (
        p.make_end_of_call_report(ended_reason="silence-timed-out"),
        p.make_status_update(),
    ):
        client.post("/vapi/webhook", json=p.wrap(message), headers={"X-Vapi-Secret": "s"})
    assert capsys.readouterr().out.splitlines() == [
        f"call {p.CALL_ID} ended: silence-timed-out",
        "status-update",
    ]


def test_deadlines_example(capsys: Any) -> None:
    import time

    from flask_vapi import signals

    index = next(i for i, block in enumerate(BLOCKS) if '"searchFlights", timeout=0.2' in block)
    namespace = run_block(index)
    app: Flask = namespace["app"]
    try:
        response = app.test_client().post(
            "/vapi/webhook",
            json=p.wrap(p.make_tool_calls(("searchFlights", {"destination": "Lisbon"}, "c1"))),
        )
        assert response.get_json()["results"] == [
            {"toolCallId": "c1", "name": "searchFlights", "result": "Still searching, one moment."}
        ]
        stop = time.monotonic() + 10
        while "late:" not in (out := capsys.readouterr().out) and time.monotonic() < stop:
            time.sleep(0.02)
        assert out == "late: Two flights to Lisbon tomorrow.\n"
    finally:
        signals.late_result.disconnect(namespace["keep_late_results"])


def test_scaling_out_example() -> None:
    index = next(i for i, block in enumerate(BLOCKS) if "def identify_patient" in block)
    namespace = run_block(index)
    app = Flask("readme_state")
    app.config.update(TESTING=True, VAPI_SECRET="s")
    app.register_blueprint(namespace["vapi"])
    client = app.test_client()

    def call(*spec: Any) -> Any:
        body = p.wrap(p.make_tool_calls(spec))
        response = client.post("/vapi/webhook", json=body, headers={"X-Vapi-Secret": "s"})
        return response.get_json()["results"][0]["result"]

    assert call("identify_patient", {"date_of_birth": "1980-01-02"}) == "Thanks, I found your file."
    assert call("book_appointment", {"slot": "10:30"}) == "Booked 10:30 for patient 42."
    with app.app_context():
        assert namespace["vapi"].call_state(p.CALL_ID)["bookings"] == 1


def test_background_example() -> None:
    import threading

    from flask_vapi import VapiBlueprint

    index = next(i for i, block in enumerate(BLOCKS) if "def sync_crm" in block)
    logged: list[str] = []
    done = threading.Event()

    class Crm:
        def log_call(self, call_id: str, summary: Any) -> None:
            logged.append(call_id)
            done.set()

    vapi = VapiBlueprint()
    run_block(index, vapi=vapi, crm=Crm())
    app = Flask("readme_background")
    app.config.update(TESTING=True, VAPI_SECRET="s")
    app.register_blueprint(vapi)
    body = p.wrap(p.make_end_of_call_report())
    response = app.test_client().post("/vapi/webhook", json=body, headers={"X-Vapi-Secret": "s"})
    assert response.status_code == 200
    assert done.wait(10) and logged == [p.CALL_ID]
    two_lines = next(
        i for i, block in enumerate(BLOCKS) if '"VAPI_BACKGROUND"] = "celery"' in block
    )
    config: dict[str, Any] = {}
    run_block(two_lines, app=type("App", (), {"config": config})())
    assert config == {
        "VAPI_STORE_URL": "redis://redis.internal:6379/0",
        "VAPI_BACKGROUND": "celery",
    }


def test_event_log_example(capsys: Any) -> None:
    index = next(i for i, block in enumerate(BLOCKS) if "log = vapi.event_log(app)" in block)
    run_block(index)
    assert capsys.readouterr().out == "tool-calls 200 bookAppointment {'date': '2026-12-01'} ok\n"


def test_replay_call_example(tmp_path: Any, monkeypatch: Any) -> None:
    from flask_vapi import VapiBlueprint, payloads
    from flask_vapi.testing import VapiClient

    index = next(i for i, block in enumerate(BLOCKS) if "replay_call(app, " in block)
    namespace = run_block(index)
    vapi = VapiBlueprint()
    answer = {"text": "Booked."}

    @vapi.tool("bookAppointment")
    def book(date: str) -> str:
        return answer["text"]

    app = Flask("readme_replay")
    app.config.update(TESTING=True, VAPI_SECRET="s3cret", VAPI_EVENT_LOG=True)
    app.register_blueprint(vapi)
    app.test_client_class = VapiClient
    message = payloads.make_tool_calls(("bookAppointment", {"date": "2026-12-01"}))
    app.test_client().send_message(message)
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    exported = app.test_cli_runner().invoke(args=["vapi", "export", message["call"]["id"]])
    (tmp_path / "tests" / "calls").mkdir(parents=True)
    (tmp_path / "tests" / "calls" / "booking.jsonl").write_text(exported.output)
    monkeypatch.chdir(tmp_path)
    namespace["test_the_recorded_booking_call_still_works"](app)
    answer["text"] = "Closed."
    try:
        namespace["test_the_recorded_booking_call_still_works"](app)
    except AssertionError as error:
        assert "Closed." in str(error)
    else:
        raise AssertionError("a changed answer passed the replay")


def test_opentelemetry_example() -> None:
    from opentelemetry import trace
    from opentelemetry.util._once import Once

    index = next(i for i, block in enumerate(BLOCKS) if "ConsoleSpanExporter" in block)
    try:
        run_block(index)
        assert type(trace.get_tracer_provider()).__name__ == "TracerProvider"
    finally:
        trace._TRACER_PROVIDER_SET_ONCE = Once()
        trace._TRACER_PROVIDER = None
