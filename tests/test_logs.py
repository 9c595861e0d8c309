"""What flask_vapi logs: tracebacks when debugging, bounded lines, context, and redaction."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask

from flask_vapi import VapiBlueprint, payloads
from flask_vapi.payloads import make_status_update, make_tool_calls

from .conftest import HEADERS, SECRET

CONTROL_URL = "https://phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai/c4f1/control"
LISTEN_URL = "wss://phone-call-websocket.aws-us-west-2-backend-production2.vapi.ai/c4f1/listen"


def make(vapi: VapiBlueprint, **config: Any) -> Flask:
    app = Flask("logs")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET, **config)
    app.register_blueprint(vapi)
    return app


def post(app: Flask, message: dict[str, Any]) -> Any:
    return app.test_client().post("/vapi/webhook", json={"message": message}, headers=HEADERS)


def lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "flask_vapi"]


def failing_tool(vapi: VapiBlueprint, text: str = "database is down") -> None:
    @vapi.tool("book")
    def book() -> str:
        raise RuntimeError(text)


@pytest.mark.parametrize("debug", [False, True])
def test_a_failing_tool_logs_its_traceback_only_when_debugging(
    caplog: pytest.LogCaptureFixture, vapi: VapiBlueprint, debug: bool
) -> None:
    failing_tool(vapi)
    app = make(vapi)
    app.debug = debug
    with caplog.at_level(logging.INFO, "flask_vapi"):
        post(app, make_tool_calls(("book", {})))
    (record,) = [r for r in lines(caplog) if r.levelno == logging.ERROR]
    assert "RuntimeError: database is down" in record.getMessage()
    assert (record.exc_info is not None) is debug
    if debug:
        assert "Traceback" in caplog.text and "in book" in caplog.text


def test_the_logger_at_debug_also_logs_tracebacks(
    caplog: pytest.LogCaptureFixture, vapi: VapiBlueprint
) -> None:
    failing_tool(vapi)
    with caplog.at_level(logging.DEBUG, "flask_vapi"):
        post(make(vapi), make_tool_calls(("book", {})))
    assert any(r.exc_info for r in lines(caplog))


def test_a_huge_tool_name_gives_a_bounded_log_line(
    caplog: pytest.LogCaptureFixture, vapi: VapiBlueprint
) -> None:
    name = "n" * 5_000_000
    with caplog.at_level(logging.INFO, "flask_vapi"):
        response = post(make(vapi, VAPI_MAX_CONTENT_LENGTH=64 << 20), make_tool_calls((name, {})))
    assert response.status_code == 200
    assert all(len(r.getMessage()) < 1000 for r in lines(caplog))
    assert any("more characters" in r.getMessage() for r in lines(caplog))


def test_ten_thousand_calls_to_an_unknown_tool_give_one_warning(
    caplog: pytest.LogCaptureFixture, vapi: VapiBlueprint
) -> None:
    calls = [("ghost", {})] * 10_000 + [(f"other{i}", {}) for i in range(20)]
    with caplog.at_level(logging.INFO, "flask_vapi"):
        response = post(make(vapi), make_tool_calls(*calls))
    results = response.get_json()["results"]
    assert len(results) == 10_020
    assert all(result["error"].startswith("No tool named") for result in results)
    (warning,) = [r for r in lines(caplog) if r.levelno == logging.WARNING]
    text = warning.getMessage()
    assert "'ghost' (10000 calls)" in text and "and 16 more" in text


def test_invalid_tool_arguments_and_unknown_types_are_logged_at_info(
    caplog: pytest.LogCaptureFixture, vapi: VapiBlueprint
) -> None:
    @vapi.tool("double")
    def double(n: Any) -> Any:
        return n

    app = make(vapi)
    with caplog.at_level(logging.INFO, "flask_vapi"):
        post(app, make_tool_calls(("double", {"m": 1})))
        post(app, {"type": "brand-new.event"})
    infos = [r.getMessage() for r in lines(caplog) if r.levelno == logging.INFO]
    assert any("'double'" in line and "invalid arguments" in line for line in infos)
    assert any("unknown type 'brand-new.event'" in line for line in infos)


def test_a_rejection_log_line_names_fields_type_call_and_client(
    caplog: pytest.LogCaptureFixture, vapi: VapiBlueprint
) -> None:
    body = {"type": "tool-calls", "call": {"id": "call-42"}, "toolCallList": "not a list"}
    with caplog.at_level(logging.INFO, "flask_vapi"):
        response = post(make(vapi), body)
    assert response.status_code == 422
    (line,) = [r.getMessage() for r in lines(caplog) if r.levelno == logging.WARNING]
    assert "from 127.0.0.1" in line
    assert "type 'tool-calls'" in line and "call 'call-42'" in line
    assert "toolCallList" in line


@pytest.mark.parametrize("debug", [False, True])
def test_control_urls_and_secrets_never_reach_a_log_line(
    caplog: pytest.LogCaptureFixture, vapi: VapiBlueprint, debug: bool
) -> None:
    @vapi.on("status-update")
    def leaky(message: Any) -> None:
        raise RuntimeError(f"cannot reach {CONTROL_URL} or {LISTEN_URL} with {SECRET}")

    app = make(vapi)
    app.debug = debug
    with caplog.at_level(logging.DEBUG, "flask_vapi"):
        post(app, make_status_update())
    assert "RuntimeError" in caplog.text
    for secret in (CONTROL_URL, LISTEN_URL, SECRET, "c4f1/control"):
        assert secret not in caplog.text
    assert "<redacted capability URL>" in caplog.text


@pytest.mark.parametrize("name", sorted(payloads.__all__))
def test_redacting_a_body_as_text_agrees_with_redacting_it_parsed(name: str) -> None:
    from flask_vapi import jsonio
    from flask_vapi.logs import redact_body, redact_json

    factory = getattr(payloads, name)
    if not name.startswith("make_") or name in ("make", "make_function_call"):
        return
    message = factory()
    message.setdefault("call", {})["monitor"] = {
        "controlUrl": "https://x.vapi.ai/c4ll/control",
        "listenUrl": "wss://x.vapi.ai/c4ll/listen",
    }
    message["assistantOverrides"] = {"server": {"headers": {"X-Vapi-Secret": "shh", "n": 1}}}
    message["note"] = "Authorization: Bearer abcdefghijkl0123 then https://h.io/a/control?x=1"
    body = jsonio.dumps(payloads.wrap(message))
    fast = redact_body(body)
    assert fast is not None  # these need no walk
    assert jsonio.loads(fast) == redact_json(jsonio.loads(body))


@pytest.mark.parametrize(
    "body",
    [
        b'{"credentials": {"key": "v"}}',
        b'{"a": "{\\"password\\": \\"x\\"}"}',
        b'{"a": "\\u0073ecret"}',
        b'{"x\\"secret": "v"}',
    ],
)
def test_bodies_only_a_walk_can_redact_are_left_to_it(body: bytes) -> None:
    from flask_vapi.logs import redact_body

    assert redact_body(body) is None
