"""The inspector's pages through the test client: who may see them, what they show and hide."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_vapi import VapiBlueprint, payloads
from flask_vapi.testing import VapiClient
from tests.conftest import SECRET

TOKEN = "inspector-token-0123456789abcdef"
CONTROL_URL = "https://phone-call-websocket.aws-us-west-2.vapi.ai/c4ll/control"
ROOT = Path(__file__).parent.parent.parent


def make_app(debug: bool = False, **config: Any) -> tuple[Flask, VapiBlueprint]:
    vapi = VapiBlueprint()

    @vapi.tool("bookAppointment")
    def book(date: str) -> str:
        return f"Booked for {date}."

    app = Flask("pages")
    app.config.update({"TESTING": True, "VAPI_SECRET": SECRET, "VAPI_EVENT_LOG": True, **config})
    app.register_blueprint(vapi)
    app.debug = debug
    app.test_client_class = VapiClient
    return app, vapi


def record_call(app: Flask, vapi: VapiBlueprint) -> str:
    message = payloads.make_tool_calls(("bookAppointment", {"date": "2026-12-08"}))
    message["call"]["monitor"] = {"controlUrl": CONTROL_URL}
    message["note"] = f"the secret is {SECRET}"
    app.test_client().send_message(message)
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    call_id: str = message["call"]["id"]
    return call_id


def pages(app: Flask, call_id: str, **kwargs: Any) -> list[bytes]:
    client = app.test_client()
    return [
        client.get("/vapi/inspector/", **kwargs).data,
        client.get(f"/vapi/inspector/calls/{call_id}", **kwargs).data,
        client.get(f"/vapi/inspector/calls/{call_id}?part=timeline", **kwargs).data,
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/vapi/inspector/",
        "/vapi/inspector/login",
        "/vapi/inspector/calls/x",
        "/vapi/inspector/static/vapi_inspector/inspector.js",
    ],
)
def test_without_debug_or_token_the_inspector_is_not_there(path: str) -> None:
    app, _ = make_app()
    assert app.test_client().get(path).status_code == 404
    assert app.test_client().get(path, headers={"Authorization": "Bearer x"}).status_code == 404


def test_while_debugging_it_is_open() -> None:
    app, vapi = make_app(debug=True)
    call_id = record_call(app, vapi)
    listing, call, timeline = pages(app, call_id)
    assert call_id.encode() in listing
    assert b"bookAppointment" in call and b"Booked for 2026-12-08." in call
    assert b"<html" not in timeline and b"bookAppointment" in timeline


def test_with_a_token_scripts_use_the_bearer_header() -> None:
    app, vapi = make_app(VAPI_INSPECTOR_TOKEN=TOKEN)
    call_id = record_call(app, vapi)
    client = app.test_client()
    refused = client.get("/vapi/inspector/", headers={"Accept": "application/json"})
    assert refused.status_code == 401 and refused.json["code"] == "unauthorized"
    wrong = client.get("/vapi/inspector/", headers={"Authorization": "Bearer " + TOKEN[:-1]})
    assert wrong.status_code == 401
    right = client.get(
        f"/vapi/inspector/calls/{call_id}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert right.status_code == 200 and b"bookAppointment" in right.data


def test_a_browser_is_sent_to_the_login_form_and_gets_a_cookie() -> None:
    app, _ = make_app(VAPI_INSPECTOR_TOKEN=TOKEN)
    client = app.test_client()
    first = client.get("/vapi/inspector/calls/abc", headers={"Accept": "text/html"})
    assert first.status_code == 302 and "/vapi/inspector/login" in first.location
    wrong = client.post("/vapi/inspector/login", data={"token": "nope"})
    assert wrong.status_code == 401 and b"That is not the token." in wrong.data
    right = client.post("/vapi/inspector/login?next=/vapi/inspector/", data={"token": TOKEN})
    assert right.status_code == 302 and right.location.endswith("/vapi/inspector/")
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    assert client.get("/vapi/inspector/").status_code == 200
    elsewhere = client.post(
        "/vapi/inspector/login?next=https://evil.example/", data={"token": TOKEN}
    )
    assert elsewhere.location.endswith("/vapi/inspector/")  # never an open redirect


def test_the_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    from flask_vapi.inspector import access

    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", spy)
    app, _ = make_app(VAPI_INSPECTOR_TOKEN=TOKEN)
    app.test_client().get("/vapi/inspector/", headers={"Authorization": "Bearer guess"})
    assert (b"guess", TOKEN.encode()) in compared


def test_a_replay_needs_the_form_token() -> None:
    app, vapi = make_app(debug=True)
    call_id = record_call(app, vapi)
    log = vapi.event_log(app)
    assert log is not None
    (event,) = log.events(call_id)
    client = app.test_client()
    url = f"/vapi/inspector/calls/{call_id}/events/{event['id']}/replay"
    assert client.post(url).status_code == 403
    assert client.post(url, data={"csrf": "0" * 64}).status_code == 403
    page = client.get(f"/vapi/inspector/calls/{call_id}").data
    found = re.search(rb'name="csrf" value="([0-9a-f]{64})"', page)
    assert found is not None
    replayed = client.post(url, data={"csrf": found.group(1).decode()})
    assert replayed.status_code == 200
    assert b"The new answer is the recorded one." in replayed.data


def test_no_secret_control_url_or_external_resource_on_any_page() -> None:
    app, vapi = make_app(VAPI_INSPECTOR_TOKEN=TOKEN, VAPI_CONTROL_TOKEN="control-token-98765")
    call_id = record_call(app, vapi)
    report = payloads.make_end_of_call_report()
    app.test_client().send_message(report)
    vapi.event_log(app).flush()  # type: ignore[union-attr]
    auth = {"headers": {"Authorization": f"Bearer {TOKEN}"}}
    shown = pages(app, call_id, **auth) + pages(app, report["call"]["id"], **auth)
    for page in shown:
        for secret in (SECRET, TOKEN, "control-token-98765", CONTROL_URL, "c4ll/control"):
            assert secret.encode() not in page
        links = re.findall(rb'(?:src|href)="(https?://[^"]*)"', page)
        assert all(link.startswith(b"https://storage.vapi.ai/") for link in links), links
    assert b"&lt;redacted" in shown[1]


def test_an_unknown_call_is_a_404_and_the_log_off_is_explained() -> None:
    app, _ = make_app(debug=True)
    assert app.test_client().get("/vapi/inspector/calls/nope").status_code == 404
    off, _ = make_app(debug=True, VAPI_EVENT_LOG=False)
    page = off.test_client().get("/vapi/inspector/")
    assert page.status_code == 200 and b"VAPI_EVENT_LOG = True" in page.data


def test_templates_and_static_files_are_in_the_wheel(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("flask_vapi-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "flask_vapi" / "inspector"
    shipped = {
        str(path.relative_to(ROOT))
        for folder in ("templates", "static")
        for path in (package / folder).rglob("*")
        if path.is_file()
    }
    assert {
        "flask_vapi/inspector/templates/vapi_inspector/call.html",
        "flask_vapi/inspector/static/vapi_inspector/inspector.js",
    } <= shipped
    assert shipped <= names


def test_the_pages_show_failures_deadlines_the_report_and_the_columns() -> None:
    import html
    import threading

    app, vapi = make_app(debug=True, VAPI_DEADLINES={"tool-calls": 0.2})
    release = threading.Event()

    @vapi.tool("slowLookup")
    def slow() -> str:
        release.wait(10)
        return "late"

    @vapi.tool("brokenTool")
    def broken() -> str:
        raise RuntimeError("the clinic database is down")

    def failing_receiver(message: Any) -> None:
        raise KeyError("missing-field")

    vapi.on("status-update")(failing_receiver)
    client = app.test_client()
    older = payloads.make_status_update(status="in-progress")
    older["call"] = {**older["call"], "id": "call-older"}
    client.send_message(older)
    start = payloads.make_status_update(status="in-progress")
    call = start["call"]
    client.send_message(start)
    tools = payloads.make_tool_calls(
        ("slowLookup", {}, "tc-slow"), ("brokenTool", {}, "tc-broken"), call=call
    )
    try:
        client.send_message(tools)
    finally:
        release.set()
    report = payloads.make_end_of_call_report(call=call, endedReason="silence-timed-out")
    client.send_message(report)
    log = vapi.event_log(app)
    assert log is not None and log.flush()

    listing = html.unescape(client.get("/vapi/inspector/").get_data(as_text=True))
    rows = re.findall(r"<tr class=\"[^\"]*\">(.*?)</tr>", listing, re.S)
    cells = [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", rows[0], re.S)
    ]
    assert cells[0] == call["id"]  # newest first
    assert cells[3:6] == ["silence-timed-out", call["customer"]["number"], "3"]
    assert cells[6] == "2"  # tool calls
    assert cells[7].startswith("3") and "1 late" in cells[7]  # errors: receiver, tool, timeout
    assert call["id"] in rows[0] and "call-older" in rows[1]

    page = html.unescape(client.get(f"/vapi/inspector/calls/{call['id']}").get_data(as_text=True))
    assert re.search(r'class="offset">\+0\.\d{3} s<', page)
    assert '<span class="status">200</span>' in page
    assert re.search(r"[\d.]+ ms of 200 ms budget", page)  # the tool-calls message
    assert "deadline hit" in page
    assert "The tool 'slowLookup' did not finish in time." in page
    assert "did not finish / 200 ms" in page
    assert "The tool 'brokenTool' failed with an internal error." in page
    assert "brokenTool" in page and "RuntimeError: the clinic database is down" in page
    assert "Traceback (most recent call last)" in page  # the failed handler's traceback
    assert "failing_receiver" in page and "KeyError" in page
    summary = re.search(r'class="report-summary">(.*?)</p>', page, re.S)
    assert summary is not None and summary.group(1) == report["analysis"]["summary"]
    assert 'data-live="false"' in page  # the report ended the call: no more polling
