"""``flask vapi tools | simulate | send``, through Flask's CLI runner, including error exits."""

from __future__ import annotations

import ast
import datetime
import json
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import flask.cli
import pytest
from click.testing import CliRunner, Result
from flask import Flask, request
from marshmallow import Schema, fields
from werkzeug.serving import make_server

import flask_vapi.cli
from flask_vapi import ToolError, VapiBlueprint, signals
from flask_vapi.testing import (
    CALL_ID,
    SignalRecord,
    make_status_update,
    make_voice_request,
    record_signals,
)
from flask_vapi.tooldefs import tool_definitions

SECRET = "cli-secret-0123456789"


class Day(Schema):
    date = fields.Date(required=True, metadata={"description": "YYYY-MM-DD"})


class Slot(Day):
    time = fields.Time(required=True)
    patient_name = fields.String(data_key="patientName", required=True)


def clinic(vapi: VapiBlueprint | None = None, **config: Any) -> Flask:
    """An app of its own with three tools, an assistant-request responder and auth."""
    vapi = vapi or VapiBlueprint()

    @vapi.tool("checkAvailability", schema=Day)
    def check(date: datetime.date) -> str:
        """List free times on a day."""
        return f"Free on {date:%A}: 09:00, 10:30."

    @vapi.tool("bookAppointment", schema=Slot)
    def book(date: datetime.date, time: datetime.time, patient_name: str) -> str:
        """Book an appointment."""
        if date.weekday() >= 5:
            raise ToolError("The clinic is closed at weekends.")
        return f"Booked {patient_name} on {date:%A} at {time:%H:%M}."

    @vapi.tool
    def transfer(department: str = "front desk") -> str:
        """Transfer the caller."""
        return f"Transferring to the {department}."

    @vapi.assistant_request
    def choose(message: Any) -> dict[str, Any]:
        return {"assistantId": "asst-new-patient"}

    app = Flask("cli_app")
    app.config.update({"TESTING": True, "VAPI_SECRET": SECRET, **config})
    app.register_blueprint(vapi)
    return app


def invoke(app: Flask, *args: str, **kwargs: Any) -> Result:
    result: Result = app.test_cli_runner().invoke(args=list(args), **kwargs)
    return result


def message_types(sent: list[SignalRecord]) -> list[str]:
    return [record.message.type for record in sent if record.name == "message-received"]  # type: ignore[union-attr]


# -- the package -----------------------------------------------------------------------------

CLI_MODULES = sorted(Path(flask_vapi.cli.__file__).parent.glob("*.py"))


def test_importing_flask_vapi_does_not_load_the_testing_kits() -> None:
    """A fresh interpreter: the pytest plugin has loaded flask_vapi.testing in this one.
    Flask's and click's testing modules (click's imports pdb) stay unloaded too."""
    code = (
        "import sys, flask_vapi, flask_vapi.cli\n"
        "kits = ('flask_vapi.testing', 'flask.testing', 'click.testing')\n"
        "print(sorted(name for name in sys.modules if name.startswith(kits)))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def imported_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The flask_vapi modules an import statement of flask_vapi/cli/*.py names."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        base = node.module or ""
    else:  # relative to flask_vapi.cli
        package = ["flask_vapi", "cli"][: 3 - node.level]
        base = ".".join([*package, node.module] if node.module else package)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


@pytest.mark.parametrize("path", CLI_MODULES, ids=lambda path: path.name)
def test_cli_modules_import_at_the_top_only_and_never_the_testing_kit(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed = set(tree.body)
    allowed.update(  # if TYPE_CHECKING: ...
        node for block in tree.body if isinstance(block, ast.If) for node in block.body
    )
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            assert node in allowed, f"{path.name}:{node.lineno}: an import inside a function"
            for module in imported_modules(node):
                assert not module.startswith("flask_vapi.testing"), f"{path.name}:{node.lineno}"


# -- the group -------------------------------------------------------------------------------


def test_each_blueprint_has_its_group() -> None:
    sales = VapiBlueprint("sales", url_prefix="/sales", config_prefix="SALES_")
    sales.tool("quote")(lambda amount: amount)
    app = clinic(SALES_SECRET="s")
    app.register_blueprint(sales)
    assert "tools" in invoke(app, "vapi", "--help").stdout
    assert "simulate" in invoke(app, "sales", "--help").stdout
    quote = json.loads(invoke(app, "sales", "tools").stdout)
    assert [tool["function"]["name"] for tool in quote] == ["quote"]


# -- tools -------------------------------------------------------------------------------------


def test_tools_prints_the_definitions() -> None:
    app = clinic()
    result = invoke(app, "vapi", "tools", "--server-url", "https://abc.ngrok.app")
    assert result.exit_code == 0, result.output
    url = "https://abc.ngrok.app/vapi/webhook"
    vapi = app.blueprints["vapi"]
    assert json.loads(result.stdout) == tool_definitions(vapi, server_url=url)  # type: ignore[arg-type]
    assert result.stderr == ""


#: How ``tools --server-url`` and ``send --url`` read a URL ({base}: the server's origin).
BASE_URLS = [
    ("{base}", "{base}/vapi/webhook"),
    ("{base}/", "{base}/vapi/webhook"),
    ("{base}/vapi/webhook", "{base}/vapi/webhook"),
    ("{base}/vapi/webhook?tenant=1", "{base}/vapi/webhook?tenant=1"),
    ("{base}/?tenant=1", "{base}/vapi/webhook?tenant=1"),
    ("{base}/clinic", "{base}/clinic/vapi/webhook"),  # behind a proxy's path prefix
]
#: URLs both options refuse.
BAD_URLS = ["abc.ngrok.app", "ftp://abc.ngrok.app", "https://", "file:///etc/passwd"]


@pytest.mark.parametrize(("given", "expected"), BASE_URLS)
def test_tools_server_url(given: str, expected: str) -> None:
    base = "https://abc.ngrok.app"
    result = invoke(clinic(), "vapi", "tools", "--server-url", given.format(base=base))
    assert result.exit_code == 0, result.output
    urls = {tool["server"]["url"] for tool in json.loads(result.stdout)}
    assert urls == {expected.format(base=base)}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"SERVER_NAME": "clinic.example.com"}, "http://clinic.example.com/vapi/webhook"),
        (
            {
                "SERVER_NAME": "clinic.example.com",
                "PREFERRED_URL_SCHEME": "https",
                "APPLICATION_ROOT": "/app",
            },
            "https://clinic.example.com/app/vapi/webhook",
        ),
    ],
)
def test_tools_server_url_from_server_name(config: dict[str, Any], expected: str) -> None:
    result = invoke(clinic(**config), "vapi", "tools")
    assert result.exit_code == 0, result.output
    assert {tool["server"]["url"] for tool in json.loads(result.stdout)} == {expected}


def test_tools_without_a_public_url_have_no_server() -> None:
    result = invoke(clinic(), "vapi", "tools")
    assert result.exit_code == 0
    assert all("server" not in tool for tool in json.loads(result.stdout))
    assert "no server.url" in result.stderr


@pytest.mark.parametrize("server_url", BAD_URLS)
def test_tools_refuses_a_bad_server_url(server_url: str) -> None:
    result = invoke(clinic(), "vapi", "tools", "--server-url", server_url)
    assert result.exit_code == 2
    assert "is not an http(s) URL" in result.stderr


def test_tools_reports_untyped_parameters_on_stderr() -> None:
    vapi = VapiBlueprint()
    vapi.tool("lookup")(lambda reference: reference)
    result = invoke(clinic(vapi), "vapi", "tools")
    assert result.exit_code == 0
    assert "Warning: Parameter 'reference' of tool 'lookup' has no JSON type" in result.stderr
    assert json.loads(result.stdout)[0]["function"]["parameters"]["properties"] == {"reference": {}}


def test_tools_fails_for_a_schema_it_cannot_export() -> None:
    # (A name Vapi refuses no longer gets this far: registration refuses it.)
    class Node(Schema):
        child = fields.Nested(lambda: Node())

    vapi = VapiBlueprint()
    vapi.tool("tree", schema=Node)(lambda **kwargs: None)
    result = invoke(clinic(vapi), "vapi", "tools")
    assert result.exit_code == 1
    assert "Error: Cannot derive the parameters of tool 'tree'" in result.stderr
    assert result.stdout == ""


def test_tools_without_tools() -> None:
    app = Flask("bare")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET)
    app.register_blueprint(VapiBlueprint())
    result = invoke(app, "vapi", "tools")
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])
    assert "no tools are registered" in result.stderr


# -- simulate ----------------------------------------------------------------------------------

CALL_SCRIPT = [
    "assistant-request",
    "status-update",
    "transcript",
    "transcript",
    "tool-calls",
    "tool-calls",
    "tool-calls",
    "status-update",
    "end-of-call-report",
]


def test_simulate_plays_a_whole_call() -> None:
    app = clinic()
    with record_signals(app) as sent:
        result = invoke(app, "vapi", "simulate")
    assert result.exit_code == 0, result.output
    assert message_types(sent) == CALL_SCRIPT
    messages = [record.message for record in sent if record.name == "message-received"]
    call_ids = {message.call.id for message in messages if message and message.call}
    assert len(call_ids) == 1
    assert call_ids != {CALL_ID}  # a fresh call each run
    tool_calls = [m.tool_calls[0] for m in messages if m and m.type == "tool-calls"]  # type: ignore[attr-defined]
    assert len({call.id for call in tool_calls}) == 3
    assert [call.name for call in tool_calls] == [
        "checkAvailability",
        "bookAppointment",
        "transfer",
    ]
    booking = tool_calls[1].arguments
    assert datetime.date.fromisoformat(booking["date"]).weekday() < 5
    assert booking["patientName"] == "Maria Gonzalez"

    out = result.stdout
    assert out.startswith("Simulated call ")
    assert "to /vapi/webhook (9 messages, 3 tools)" in out.splitlines()[0]
    for number, label in enumerate(
        [
            "assistant-request",
            "status-update in-progress",
            "transcript user",
            "transcript assistant",
            "tool-calls checkAvailability",
            "tool-calls bookAppointment",
            "tool-calls transfer",
            "status-update ended",
            "end-of-call-report",
        ],
        1,
    ):
        assert f"{number:>2}  {label} " in out
    assert 'answer   {"assistantId": "asst-new-patient"}' in out
    assert "signals  message-received, assistant-request" in out
    assert "says     user: Hi, I'd like to book an appointment" in out
    assert 'calls    transfer({"department": "front desk"})' in out
    assert "result   Transferring to the front desk." in out
    assert "result   Booked Maria Gonzalez on " in out
    assert out.rstrip().splitlines()[-1].startswith("OK: 9 messages answered 2xx in ")


def test_simulate_args_replace_generated_arguments_and_hang() -> None:
    app = clinic()
    arguments = {"checkAvailability": {"date": "2026-09-07"}, "transfer": {"department": "billing"}}
    with record_signals(app, signals.tool_calls, signals.hang) as sent:
        result = invoke(app, "vapi", "simulate", "--args", json.dumps(arguments), "--hang")
    assert result.exit_code == 0, result.output
    assert "result   Free on Monday: 09:00, 10:30." in result.stdout
    assert "result   Transferring to the billing." in result.stdout
    assert [record.name for record in sent][-1] == "hang"
    assert " 8  hang " in result.stdout


def test_simulate_cuts_long_lines_unless_full() -> None:
    vapi = VapiBlueprint()
    vapi.tool("essay")(lambda: "word " * 100)
    app = clinic(vapi)
    short = invoke(app, "vapi", "simulate").stdout
    assert "result   word word" in short
    assert max(len(line) for line in short.splitlines()) <= 100
    full = invoke(app, "vapi", "simulate", "--full").stdout
    assert ("word " * 100).strip() in full


def test_simulate_fails_when_a_tool_returns_an_error() -> None:
    weekend = {"bookAppointment": {"date": "2026-09-12", "time": "10:30", "patientName": "Al"}}
    result = invoke(clinic(), "vapi", "simulate", "--args", json.dumps(weekend))
    assert result.exit_code == 1
    assert "error    The clinic is closed at weekends." in result.stdout
    assert "FAILED: 1 problem(s) in 9 messages" in result.stdout
    assert "#6 tool-calls bookAppointment: tool 'bookAppointment' returned an error" in (
        result.stdout
    )


def test_simulate_fails_when_arguments_are_invalid() -> None:
    bad = {"checkAvailability": {"date": "next Tuesday"}}
    result = invoke(clinic(), "vapi", "simulate", "--args", json.dumps(bad))
    assert result.exit_code == 1
    assert "error    Invalid arguments for tool 'checkAvailability': date: Not a valid" in (
        result.stdout
    )


def test_simulate_fails_when_a_handler_fails() -> None:
    app = clinic()

    def store(sender: Flask, **extra: Any) -> None:
        raise RuntimeError("database is locked")

    with signals.end_of_call_report.connected_to(store, sender=app):
        result = invoke(app, "vapi", "simulate")
    assert result.exit_code == 1
    assert "failed   RuntimeError: database is locked" in result.stdout
    assert "#9 end-of-call-report: a handler failed: RuntimeError: database is locked" in (
        result.stdout
    )


def test_simulate_fails_when_an_answer_is_not_2xx() -> None:
    app = clinic()

    @app.before_request
    def maintenance() -> Any:
        return {"error": "maintenance"}, 503

    result = invoke(app, "vapi", "simulate")
    assert result.exit_code == 1
    assert " 1  assistant-request                  503" in result.stdout
    assert "#1 assistant-request: answered HTTP 503" in result.stdout
    assert "FAILED: 9 problem(s)" in result.stdout


def test_simulate_signs_with_the_configured_auth() -> None:
    config = {
        "VAPI_SECRET": None,
        "VAPI_HMAC_SECRET": "k",
        "VAPI_HMAC_PAYLOAD_FORMAT": "{timestamp}.{url}{body}",
    }
    assert invoke(clinic(**config), "vapi", "simulate").exit_code == 0


REPO = Path(__file__).parent.parent


def test_simulate_runs_the_real_handlers_of_a_test_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented factory form: the example app books into the test database."""
    database = tmp_path / "test-clinic.sqlite3"
    monkeypatch.chdir(REPO)
    monkeypatch.syspath_prepend(str(REPO))
    factory = f"example_app:create_app({{'TESTING': True, 'CLINIC_DATABASE': {str(database)!r}}})"
    result = CliRunner().invoke(flask.cli.cli, ["--app", factory, "vapi", "simulate"])
    assert result.exit_code == 0, result.output
    with closing(sqlite3.connect(database)) as db:
        booked = db.execute("SELECT patient_name, cancelled_at IS NOT NULL FROM appointments")
        assert booked.fetchall() == [("Maria Gonzalez", 1)]  # booked, then cancelled
        assert db.execute("SELECT status FROM calls").fetchall() == [("ended",)]


@pytest.mark.parametrize("command", ["simulate", "send"])
def test_help_says_the_real_handlers_run(command: str) -> None:
    result = invoke(clinic(), "vapi", command, "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "the app's real handlers answer: a simulated booking books." in text
    assert "flask --app \"myapp:create_app('testing')\"" in text


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ("{", "not valid JSON"),
        ('["bookAppointment"]', "must be a JSON object of tool name -> arguments object"),
        ('{"bookAppointment": 1}', "must be a JSON object of tool name -> arguments object"),
        ('{"bookApointment": {}}', "no tool named 'bookApointment' (registered: "),
    ],
)
def test_simulate_refuses_bad_args(args: str, error: str) -> None:
    result = invoke(clinic(), "vapi", "simulate", "--args", args)
    assert result.exit_code == 2
    assert error in result.stderr


def test_simulate_without_tools() -> None:
    app = Flask("bare")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET)
    app.register_blueprint(VapiBlueprint())
    with record_signals(app, signals.message_received) as sent:
        result = invoke(app, "vapi", "simulate")
    assert result.exit_code == 0, result.output
    assert len(sent) == 6
    assert "(6 messages, 0 tools)" in result.stdout


# -- send --------------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "status.json"
    path.write_text(json.dumps(make_status_update(status="ended"), indent=2), encoding="utf-8")
    return path


def keep_bodies(app: Flask) -> list[bytes]:
    bodies: list[bytes] = []

    @app.before_request
    def keep() -> None:
        bodies.append(request.get_data())

    return bodies


def test_send_a_bare_message_in_process(saved: Path) -> None:
    app = clinic()
    bodies = keep_bodies(app)
    with record_signals(app, signals.status_update) as sent:
        result = invoke(app, "vapi", "send", str(saved))
    assert result.exit_code == 0, result.output
    assert sent[0].message.status == "ended"  # type: ignore[union-attr]
    assert bodies == [b'{"message":' + saved.read_bytes().strip() + b"}"]
    lines = result.stdout.splitlines()
    assert (
        lines[0]
        == f"POST /vapi/webhook (in-process): status-update ({len(bodies[0])} bytes, signed)"
    )
    assert lines[1].startswith("200 OK in ")
    assert lines[2:] == ["signals: message-received, status-update", "{}"]


def test_send_a_full_body_from_stdin_keeps_its_bytes() -> None:
    app = clinic()
    bodies = keep_bodies(app)
    body = '\ufeff{ "message" : ' + json.dumps(make_status_update(), ensure_ascii=False) + " }\n"
    result = invoke(app, "vapi", "send", "-", input=body.encode("utf-8"))
    assert result.exit_code == 0, result.output
    assert bodies == [body.encode("utf-8")[3:]]  # without the BOM


def test_send_prints_json_answers_and_binary_sizes(tmp_path: Path) -> None:
    vapi = VapiBlueprint()
    vapi.voice_request(lambda message: b"\x00" * 64)
    app = clinic(vapi)
    path = tmp_path / "voice.json"
    path.write_text(json.dumps({"message": make_voice_request()}), encoding="utf-8")
    result = invoke(app, "vapi", "send", str(path))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "<64 bytes of application/octet-stream>"
    path.write_text(json.dumps({"type": "assistant-request"}), encoding="utf-8")
    result = invoke(app, "vapi", "send", str(path))
    assert result.stdout.splitlines()[-3:] == ["{", '  "assistantId": "asst-new-patient"', "}"]


def test_send_unsigned_is_rejected_and_exits_1(saved: Path) -> None:
    result = invoke(clinic(), "vapi", "send", "--no-sign", str(saved))
    assert result.exit_code == 1
    assert "unsigned)" in result.stdout
    assert "401 UNAUTHORIZED" in result.stdout
    assert '"message": "Unauthorized: missing X-Vapi-Secret header."' in result.stdout


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", 'neither a request body {"message": {...}} nor a message with a "type"'),
        (b'{"message": "hang"}', "neither a request body"),
        (b'{"type": 7}', "neither a request body"),
    ],
)
def test_send_refuses_what_is_not_a_payload(tmp_path: Path, content: bytes, error: str) -> None:
    path = tmp_path / "payload.json"
    path.write_bytes(content)
    result = invoke(clinic(), "vapi", "send", str(path))
    assert result.exit_code == 2
    assert error in result.stderr


def test_send_needs_an_existing_file() -> None:
    result = invoke(clinic(), "vapi", "send", "/nonexistent/payload.json")
    assert result.exit_code == 2
    assert "No such file or directory" in result.stderr


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` on a real HTTP server on 127.0.0.1 (a free port) in a thread, for one block."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    assert not thread.is_alive()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_send_to_a_running_server(saved: Path) -> None:
    config = {
        "VAPI_HMAC_SECRET": "hmac-key",
        "VAPI_HMAC_PAYLOAD_FORMAT": "{method} {url} {timestamp}.{body}",
    }
    app = clinic(**config)
    with serving(app) as base, record_signals(app, signals.status_update) as sent:
        url = f"{base}/vapi/webhook"  # signed for this URL, from the origin alone
        result = invoke(app, "vapi", "send", "--url", base, "--timeout", "10", str(saved))
        rejected = invoke(app, "vapi", "send", "--url", url, "--no-sign", str(saved))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"POST {url}: status-update (")
    assert "200 OK in " in result.stdout
    assert len(sent) == 1
    assert sent[0].message.status == "ended"  # type: ignore[union-attr]
    assert rejected.exit_code == 1
    assert "401 UNAUTHORIZED" in rejected.stdout
    assert '"code": "unauthorized"' in rejected.stdout


def test_send_to_an_unreachable_url(saved: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/vapi/webhook"
    result = invoke(clinic(), "vapi", "send", "--url", url, "--timeout", "5", str(saved))
    assert result.exit_code == 1
    assert f"Error: Could not reach {url}: " in result.stderr


@pytest.mark.parametrize("url", BAD_URLS)
def test_send_refuses_a_bad_url(saved: Path, url: str) -> None:
    result = invoke(clinic(), "vapi", "send", "--url", url, str(saved))
    assert result.exit_code == 2
    assert "is not an http(s) URL" in result.stderr


@pytest.mark.parametrize(("given", "expected"), BASE_URLS)
def test_send_url(saved: Path, given: str, expected: str) -> None:
    received: list[tuple[str, str, str | None]] = []

    def any_path(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        secret = environ.get("HTTP_X_VAPI_SECRET")
        received.append((environ["PATH_INFO"], environ["QUERY_STRING"], secret))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    with serving(any_path) as base:
        url, expected = given.format(base=base), expected.format(base=base)
        result = invoke(clinic(), "vapi", "send", "--url", url, str(saved))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"POST {expected}: status-update (")
    parts = urlsplit(expected)
    assert received == [(parts.path, parts.query, SECRET)]


def test_simulate_fails_when_a_tool_runs_out_of_time() -> None:
    vapi = VapiBlueprint()
    release = threading.Event()

    @vapi.tool(timeout=0.2)
    def slowLookup() -> str:
        release.wait(10)
        return "late"

    try:
        result = invoke(clinic(vapi), "vapi", "simulate")
    finally:
        release.set()
    assert result.exit_code == 1
    assert "error    The tool 'slowLookup' did not finish in time." in result.stdout
    assert (
        "a handler failed: DeadlineExceeded: tool 'slowLookup' did not finish within its 0.2 s"
        in result.stdout
    )
