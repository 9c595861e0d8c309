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
