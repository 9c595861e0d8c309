"""The test kit: sign(), VapiClient, record_signals() and the pytest plugin, used on themselves."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Flask, current_app
from marshmallow import Schema, fields, validate

from flask_vapi import ConfigurationError, ToolError, VapiBlueprint, signals, testing
from flask_vapi.models.messages import StatusUpdate
from flask_vapi.testing import (
    SignalRecord,
    VapiClient,
    find_blueprint,
    make_status_update,
    make_voice_request,
    record_signals,
    sign,
    tool_call_id,
)

from .ids import make_tool_calls

pytest_plugins = ["pytester"]

SECRET = "kit-secret-0123456789"
BODY = b'{"message":{"type":"hang"}}'


def build_app(blueprint: VapiBlueprint | None = None, **config: Any) -> Flask:
    """A small app of its own: TESTING, secret auth unless ``config`` says otherwise."""
    app = Flask("kit_app")
    app.config.update({"TESTING": True, "VAPI_SECRET": SECRET, **config})
    app.register_blueprint(blueprint or VapiBlueprint())
    app.test_client_class = VapiClient
    return app


def names(records: list[SignalRecord]) -> list[str]:
    return [record.name for record in records]


# -- the app of the plugin fixtures (vapi_client, vapi_signals, vapi_sign) ----------------


class EchoArgs(Schema):
    word = fields.String(required=True, validate=validate.Length(min=2))
    times = fields.Integer(load_default=1, validate=validate.Range(min=1, max=3))


@pytest.fixture
def app() -> Flask:
    vapi = VapiBlueprint()

    @vapi.tool("echo", schema=EchoArgs)
    def echo(word: str, times: int) -> str:
        """Repeat a word."""
        return " ".join([word] * times)

    @vapi.tool
    def fail() -> None:
        raise ToolError("The booking system is down.")

    @vapi.assistant_request
    def choose(message: Any) -> dict[str, Any]:
        return {"assistantId": "asst-1"}

    @vapi.voice_request
    def speak(message: Any) -> bytes:
        return b"\x00\x01" * 8

    return build_app(vapi)


# -- sign() -----------------------------------------------------------------------------------

# (id, config): every auth mode of the blueprint, and HMAC with every plan option.
AUTH_MODES: list[tuple[str, dict[str, Any]]] = [
    ("secret", {"VAPI_SECRET": SECRET}),
    ("secret-rotated", {"VAPI_SECRET": ["new-secret-1", "old-secret-2"]}),
    ("bearer", {"VAPI_BEARER_TOKEN": "tok-123"}),
    (
        "bearer-custom-header-no-prefix",
        {
            "VAPI_BEARER_TOKEN": "tok-123",
            "VAPI_BEARER_HEADER": "X-Vapi-Secret",
            "VAPI_BEARER_PREFIX_ENABLED": False,
        },
    ),
    ("hmac-defaults", {"VAPI_HMAC_SECRET": "hmac-key"}),
    (
        "hmac-every-option",
        {
            "VAPI_HMAC_SECRET": base64.b64encode(b"raw key bytes").decode(),
            "VAPI_HMAC_SECRET_IS_BASE64": True,
            "VAPI_HMAC_ALGORITHM": "sha512",
            "VAPI_HMAC_SIGNATURE_HEADER": "X-Sig",
            "VAPI_HMAC_TIMESTAMP_HEADER": "X-Time",
            "VAPI_HMAC_PAYLOAD_FORMAT": "{method}\n{url}\n{svix-id}\n{timestamp}\n{body}",
            "VAPI_HMAC_MESSAGE_ID_HEADER": "svix-id",
            "VAPI_HMAC_SIGNATURE_PREFIX": "v1=",
            "VAPI_HMAC_SIGNATURE_ENCODING": "base64",
            "VAPI_HMAC_TOLERANCE": 60,
        },
    ),
    (
        "hmac-no-timestamp",
        {"VAPI_HMAC_SECRET": "hmac-key", "VAPI_HMAC_INCLUDE_TIMESTAMP": False},
    ),
    ("headers", {"VAPI_HEADERS": {"X-Api-Key": ["k1", "k2"], "X-Tenant": "clinic"}}),
    (
        "secret-and-hmac",
        {"VAPI_SECRET": SECRET, "VAPI_HMAC_SECRET": "hmac-key"},
    ),
]


@pytest.fixture(params=AUTH_MODES, ids=[mode for mode, _ in AUTH_MODES])
def auth_app(request: pytest.FixtureRequest) -> Flask:
    return build_app(**{"VAPI_SECRET": None, **request.param[1]})


def signs_the_body(app: Flask) -> bool:
    return app.config.get("VAPI_HMAC_SECRET") is not None


def test_signed_messages_pass_every_auth_mode(auth_app: Flask) -> None:
    client = auth_app.test_client()
    with record_signals(auth_app) as sent:
        response = client.send_message("status-update", status="ended")
    assert response.status_code == 200, response.json
    assert response.json == {}
    assert names(sent) == ["message-received", "status-update"]


def test_unsigned_and_tampered_requests_fail_every_auth_mode(auth_app: Flask) -> None:
    client: Any = auth_app.test_client()
    with record_signals(auth_app, signals.request_rejected) as rejected:
        unsigned = client.send_message("hang", sign=False)
        headers = sign(BODY, auth_app, url=client.webhook_url())
        wrong = client.send_body(
            BODY, sign=False, headers={key: value + "x" for key, value in headers.items()}
        )
        tampered = client.send_body(BODY.replace(b"hang", b"hung"), sign=False, headers=headers)
    assert [unsigned.status_code, wrong.status_code] == [401, 401]
    # Only a signature covers the body: static credentials pass with any body.
    assert tampered.status_code == (401 if signs_the_body(auth_app) else 200)
    assert [record.extra["status"] for record in rejected] == [401] * (
        3 if signs_the_body(auth_app) else 2
    )


def test_sign_merges_the_headers_of_every_mode() -> None:
    config = {"VAPI_SECRET": SECRET, "VAPI_BEARER_TOKEN": "tok", "VAPI_HMAC_SECRET": "key"}
    headers = sign(BODY, config, timestamp=1_700_000_000)
    assert headers == {
        "X-Vapi-Secret": SECRET,
        "Authorization": "Bearer tok",
        "x-timestamp": "1700000000",
        "x-signature": hmac.new(b"key", b"1700000000." + BODY, hashlib.sha256).hexdigest(),
    }


def test_sign_reads_an_app_or_a_mapping_with_a_prefix() -> None:
    app = build_app(VapiBlueprint("sales", config_prefix="VAPI_SALES_"), VAPI_SALES_SECRET="s")
    assert sign(BODY, app) == {"X-Vapi-Secret": SECRET}
    assert sign(BODY, app, prefix="VAPI_SALES_") == {"X-Vapi-Secret": "s"}
    assert sign(BODY, {"OTHER_SECRET": "o"}, prefix="OTHER_") == {"X-Vapi-Secret": "o"}


def test_sign_and_the_client_sign_with_the_registered_settings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The webhook verifies with the settings of registration: so does the test kit."""
    app = build_app(VAPI_SECRET=None, VAPI_HMAC_SECRET="registered-key")
    app.config["VAPI_HMAC_SECRET"] = "changed-key"
    with caplog.at_level(logging.WARNING, logger="flask_vapi"):
        headers = sign(BODY, app, timestamp=1_700_000_000)
        response = app.test_client().send_message("hang")
    expected = hmac.new(b"registered-key", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert headers["x-signature"] == expected
    assert response.status_code == 200
    warning = (
        "VAPI_HMAC_SECRET changed after the 'vapi' blueprint was registered: its webhook "
        "verifies, and the test kit signs, with the registered value. Change app.config "
        "before register_blueprint()."
    )
    assert [record.getMessage() for record in caplog.records] == [warning, warning]
    assert "registered-key" not in caplog.text
    assert "changed-key" not in caplog.text


def test_sign_is_quiet_while_the_config_is_unchanged(caplog: pytest.LogCaptureFixture) -> None:
    app = build_app()
    with caplog.at_level(logging.DEBUG, logger="flask_vapi"):
        assert sign(BODY, app) == {"X-Vapi-Secret": SECRET}
    assert caplog.records == []


def test_sign_uses_the_first_of_rotated_credentials() -> None:
    assert sign(BODY, {"VAPI_BEARER_TOKEN": ["new", "old"]}) == {"Authorization": "Bearer new"}


def test_sign_without_auth_configured_is_empty() -> None:
    app = build_app(VAPI_SECRET=None, VAPI_AUTH_DISABLED=True)
    assert sign(BODY, app) == {}
    assert app.test_client().send_message("hang", sign=True).status_code == 200


def test_sign_rejects_invalid_configuration_and_text_bodies() -> None:
    with pytest.raises(ConfigurationError, match="VAPI_HMAC_ALGORITHM"):
        sign(BODY, {"VAPI_HMAC_SECRET": "k", "VAPI_HMAC_ALGORITHM": "md5"})
    with pytest.raises(TypeError, match="exact body bytes"):
        sign(BODY.decode(), {"VAPI_SECRET": "s"})  # type: ignore[arg-type]


def test_hmac_timestamp_option_makes_stale_requests() -> None:
    app = build_app(VAPI_SECRET=None, VAPI_HMAC_SECRET="key", VAPI_HMAC_TOLERANCE=300)
    client: Any = app.test_client()
    fresh = sign(BODY, app, timestamp=time.time() - 10)
    stale = sign(BODY, app, timestamp=time.time() - 3600)
    assert client.send_body(BODY, sign=False, headers=fresh).status_code == 200
    response = client.send_body(BODY, sign=False, headers=stale)
    assert response.status_code == 401
    assert "stale" in response.json["message"]


def test_credentials_the_app_does_not_accept_fail() -> None:
    app = build_app()
    client: Any = app.test_client()
    headers = sign(BODY, {"VAPI_SECRET": "someone-else"})
    assert client.send_body(BODY, sign=False, headers=headers).status_code == 401


# -- VapiClient --------------------------------------------------------------------------------


def test_send_message_builds_a_type_with_fields(app: Flask) -> None:
    client = app.test_client()
    with record_signals(app, "status-update") as sent:
        response = client.send_message("status-update", status="ended", ended_reason="voicemail")
    assert response.status_code == 200
    message = sent[0].message
    assert isinstance(message, StatusUpdate)
    assert (message.status, message.ended_reason) == ("ended", "voicemail")


def test_send_message_tool_calls_returns_parsed_results(app: Flask) -> None:
    response = app.test_client().send_message(
        "tool-calls", ("echo", {"word": "hi", "times": 2}), ("fail", {}, "call-2")
    )
    first, second = response.json["results"]
    assert re.fullmatch(r"call_[0-9a-f]{24}", first.pop("toolCallId"))  # a fresh id
    assert first == {"name": "echo", "result": "hi hi"}
    assert second == {
        "toolCallId": "call-2",
        "name": "fail",
        "error": "The booking system is down.",
    }


def test_send_message_accepts_bare_and_enveloped_messages(app: Flask) -> None:
    client = app.test_client()
    message = make_tool_calls(("echo", {"word": "yo"}))
    bare = client.send_message(message)
    wrapped = client.send_message({"message": message})
    assert (
        bare.json
        == wrapped.json
        == {"results": [{"toolCallId": tool_call_id(0), "name": "echo", "result": "yo"}]}
    )


def test_send_message_unknown_type_and_answers(app: Flask) -> None:
    client = app.test_client()
    with record_signals(app, signals.unknown_message) as sent:
        assert client.send_message("brand.new-event", custom=1).json == {}
    assert sent[0].message is not None
    assert sent[0].message.raw["custom"] == 1
    assert client.send_message("assistant-request").json == {"assistantId": "asst-1"}


def test_send_message_argument_errors(app: Flask) -> None:
    client = app.test_client()
    with pytest.raises(TypeError, match="message type"):
        client.send_message(make_status_update(), status="ended")
    with pytest.raises(TypeError, match="'tool-calls'"):
        client.send_message("brand.new-event", ("echo", {}))


def test_binary_answers_have_no_json(app: Flask) -> None:
    response = app.test_client().send_message(make_voice_request(sample_rate=16000))
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.json is None
    assert response.data == b"\x00\x01" * 8


def test_send_body_posts_exact_bytes_signed(app: Flask) -> None:
    client: Any = app.test_client()
    with record_signals(app) as sent:
        bad_json = client.send_body(b'{"message": ')
        no_envelope = client.send_body({"type": "hang"})
        text = client.send_body('{"message": {"type": "hang"}}')
    assert (bad_json.status_code, bad_json.json["code"]) == (400, "invalid_json")
    assert (no_envelope.status_code, no_envelope.json["code"]) == (400, "invalid_envelope")
    assert text.status_code == 200
    assert [record.extra.get("code") for record in sent if record.name == "request-rejected"] == [
        "invalid_json",
        "invalid_envelope",
    ]
    assert sent[0].extra["body"] == b'{"message": '


def test_explicit_headers_replace_signed_ones(app: Flask) -> None:
    client = app.test_client()
    response = client.send_message("hang", headers={"x-vapi-secret": "wrong"})
    assert response.status_code == 401
    assert client.send_message("hang", headers={"X-Extra": "1"}).status_code == 200


def test_other_methods_reach_the_webhook(app: Flask) -> None:
    response = app.test_client().send_body(b"", method="GET")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_blueprint_is_found_by_name_object_or_default() -> None:
    main, sales = VapiBlueprint(), VapiBlueprint("sales", url_prefix="/sales", config_prefix="S_")
    app = build_app(main, S_SECRET="sales-secret")
    app.register_blueprint(sales)
    client: Any = app.test_client()
    with pytest.raises(LookupError, match="Several VapiBlueprints"):
        client.send_message("hang")
    with record_signals(app, signals.hang) as sent:
        assert client.send_message("hang", blueprint="vapi").status_code == 200
        assert client.send_message("hang", blueprint=sales).status_code == 200
        assert app.test_client(blueprint="sales").send_message("hang").status_code == 200
    assert [record.extra["blueprint"] for record in sent] == [main, sales, sales]
    assert client.webhook_url(blueprint="sales") == "http://localhost/sales/webhook"
    with pytest.raises(LookupError, match="No VapiBlueprint 'billing'"):
        find_blueprint(app, "billing")


def test_without_a_vapi_blueprint_the_client_says_so() -> None:
    app = Flask("plain")
    with pytest.raises(LookupError, match="No VapiBlueprint is registered"):
        VapiClient(app).send_message("hang")


def test_nested_blueprint_app_root_and_server_name_sign_the_right_url() -> None:
    parent = Blueprint("api", __name__, url_prefix="/api")
    parent.register_blueprint(VapiBlueprint(url_prefix="/voice"))
    app = Flask("rooted")
    app.config.update(
        TESTING=True,
        APPLICATION_ROOT="/clinic",
        SERVER_NAME="clinic.example.com",
        PREFERRED_URL_SCHEME="https",
        VAPI_HMAC_SECRET="key",
        VAPI_HMAC_PAYLOAD_FORMAT="{timestamp}|{url}|{body}",
    )
    app.register_blueprint(parent)
    client = VapiClient(app)
    assert find_blueprint(app)[0] == "api.vapi"
    assert client.webhook_url() == "https://clinic.example.com/clinic/api/voice/webhook"
    assert client.send_message("hang").status_code == 200


def test_client_subclass_is_a_flask_client(app: Flask) -> None:
    with app.test_client() as client:
        client.send_message("hang")
        assert current_app.name == "kit_app"  # the request context is kept, as Flask's is


# -- record_signals() --------------------------------------------------------------------------


def test_records_in_order_with_message_and_extras(app: Flask) -> None:
    client = app.test_client()
    with record_signals(app) as sent:
        client.send_message("status-update")
        assert names(sent) == ["message-received", "status-update"]  # live during the block
        client.send_message("hang", sign=False)
    assert names(sent) == ["message-received", "status-update", "request-rejected"]
    received, status, rejected = sent
    assert received.message is status.message
    assert isinstance(status.message, StatusUpdate)
    assert status.extra == {"blueprint": find_blueprint(app)[1]}
    assert rejected.message is None
    assert rejected.extra["status"] == 401
    assert rejected.extra["code"] == "unauthorized"


def test_only_some_signals_by_object_or_name(app: Flask) -> None:
    client = app.test_client()
    with record_signals(app, signals.hang, "status-update") as sent:
        client.send_message("status-update")
        client.send_message("hang")
        client.send_message("speech-update")
    assert names(sent) == ["status-update", "hang"]
    with pytest.raises(ValueError, match="no signal named 'status_update'"):
        with record_signals(app, "status_update"):
            pass  # pragma: no cover


def test_handler_errors_are_recorded(app: Flask) -> None:
    def broken(sender: Flask, **extra: Any) -> None:
        raise RuntimeError("disk full")

    with record_signals(app) as sent, signals.hang.connected_to(broken, sender=app):
        assert app.test_client().send_message("hang").status_code == 200
    assert names(sent) == ["message-received", "hang", "handler-error"]
    assert sent[2].message is sent[1].message
    assert isinstance(sent[2].extra["exception"], RuntimeError)
    assert sent[2].extra["handler"] is broken


def test_recording_stops_after_the_block_and_ignores_other_apps(app: Flask) -> None:
    other = build_app()
    with record_signals(app) as sent:
        other.test_client().send_message("hang")
    app.test_client().send_message("hang")
    assert sent == []
    assert not signals.hang.receivers


def test_current_app_is_accepted(app: Flask) -> None:
    with app.app_context(), record_signals(current_app, signals.hang) as sent:
        app.test_client().send_message("hang")
    assert names(sent) == ["hang"]


def test_the_kit_reexports_every_payload_factory() -> None:
    from flask_vapi import payloads

    for name in payloads.__all__:
        assert getattr(testing, name) is getattr(payloads, name)
    assert set(testing.__all__) >= set(payloads.__all__) | {"sign", "VapiClient"}


# -- the pytest plugin -------------------------------------------------------------------------


def test_fixtures_use_the_app_fixture(
    app: Flask, vapi_client: VapiClient, vapi_signals: list[SignalRecord], vapi_sign: Any
) -> None:
    assert vapi_client.application is app
    response = vapi_client.send_message("tool-calls", ("echo", {"word": "x"}))
    assert "word: Shorter than minimum length 2." in response.json["results"][0]["error"]
    assert names(vapi_signals) == ["message-received", "tool-calls"]
    assert vapi_sign(BODY) == {"X-Vapi-Secret": SECRET}
    headers = vapi_sign(BODY, blueprint="vapi")
    assert vapi_client.send_body(BODY, sign=False, headers=headers).status_code == 200


def test_plugin_is_loaded_from_its_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from flask import Flask
        from flask_vapi import VapiBlueprint
        from flask_vapi.testing import VapiClient

        class Custom(VapiClient):
            pass

        @pytest.fixture
        def app():
            sales = VapiBlueprint("sales", config_prefix="SALES_")

            @sales.tool
            def double(n: int) -> int:
                return 2 * n

            app = Flask("plugged")
            app.config.update(TESTING=True, SALES_BEARER_TOKEN="tok")
            app.register_blueprint(sales)
            app.test_client_class = Custom
            return app

        def test_client_and_signals(vapi_client, vapi_signals):
            reply = vapi_client.send_message("tool-calls", ("double", {"n": 21}))
            assert reply.json["results"][0]["result"] == "42"
            assert [r.name for r in vapi_signals] == ["message-received", "tool-calls"]

        def test_sign(vapi_sign):
            assert vapi_sign(b"{}") == {"Authorization": "Bearer tok"}

        def test_client_class_of_the_app_is_kept(vapi_client):
            assert type(vapi_client) is Custom

        def test_unsigned(vapi_client, vapi_signals):
            assert vapi_client.send_message("hang", sign=False).status_code == 401
            assert vapi_signals[0].extra["code"] == "unauthorized"
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=4)


def test_vapi_sign_signs_for_the_webhook_url(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from flask import Flask
        from flask_vapi import VapiBlueprint

        @pytest.fixture
        def app():
            app = Flask("hmac")
            app.config.update(
                TESTING=True,
                VAPI_HMAC_SECRET="k",
                VAPI_HMAC_PAYLOAD_FORMAT="{timestamp}|{url}|{body}",
            )
            app.register_blueprint(VapiBlueprint(url_prefix="/hooks"))
            return app

        def test_it(vapi_client, vapi_sign):
            body = b'{"message": {"type": "hang"}}'
            headers = vapi_sign(body)
            assert vapi_client.send_body(body, sign=False, headers=headers).status_code == 200
            elsewhere = vapi_sign(body, url="http://localhost/other")
            assert vapi_client.send_body(body, sign=False, headers=elsewhere).status_code == 401
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "-W", "error").assert_outcomes(passed=1)


def test_plugin_fixtures_need_an_app_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_it(vapi_client):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'app' not found*"])


def test_tool_schema_errors_name_the_bad_fields(app: Flask) -> None:
    """``@vapi.tool(schema=...)`` validates before the handler: errors name each field."""
    response = app.test_client().send_message(
        "tool-calls", ("echo", {"word": "a", "times": 9}), ("echo", {"times": "x"})
    )
    first, second = (result["error"] for result in response.json["results"])
    assert first.startswith("Invalid arguments for tool 'echo': ")
    assert "word: Shorter than minimum length 2." in first
    assert "times: Must be greater than or equal to 1 and less than or equal to 3." in first
    assert "word: Missing data for required field." in second
    assert "times: Not a valid integer." in second
    body = json.dumps(response.json)
    assert "Traceback" not in body


# -- the documentation -------------------------------------------------------------------------

DEVKIT_PAGE = Path(__file__).parent.parent / "docs" / "devkit.md"


def test_devkit_page_examples_run(pytester: pytest.Pytester) -> None:
    """The Python blocks of docs/devkit.md run in order; ``# test_*.py`` blocks under pytest."""
    blocks = re.findall(r"```python\n(.*?)```", DEVKIT_PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 8
    namespace: dict[str, Any] = {"__name__": "devkit_example"}
    for block in blocks:
        module = re.fullmatch(r"# (test_\w+)\.py", block.splitlines()[0])
        if module is None:
            exec(compile(block, str(DEVKIT_PAGE), "exec"), namespace)
            continue
        pytester.makepyfile(**{module.group(1): block})
        result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
        result.assert_outcomes(passed=block.count("\ndef test_"))
