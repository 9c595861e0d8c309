"""Every HTTP status path of the webhook, registration, and the blueprint's options."""

from __future__ import annotations

import io
import logging
from typing import Any, Callable

import pytest
from flask import Flask, url_for

from flask_vapi import ConfigurationError, VapiBlueprint
from flask_vapi.payloads import make_end_of_call_report, make_status_update

from .conftest import HEADERS, SECRET

STATUS = {"type": "status-update", "status": "in-progress"}


def error_body(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    assert body["code"] == code
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    return body


# -- 200 ------------------------------------------------------------------------------


def test_informational_message_is_answered_with_empty_object(post: Any, received: Any) -> None:
    response = post(make_status_update())
    assert response.status_code == 200
    assert response.get_json() == {}
    assert received.names() == ["message_received", "status_update"]


def test_unknown_type_is_accepted_and_signalled(post: Any, received: Any) -> None:
    response = post({"type": "brand-new.event", "someField": {"deep": [1, 2]}})
    assert response.status_code == 200
    assert response.get_json() == {}
    assert received.names() == ["message_received", "unknown_message"]
    message = received.of("unknown_message")[0]["message"]
    assert message.type == "brand-new.event"
    assert message.raw["someField"] == {"deep": [1, 2]}


def test_endpoint_name_and_url(app: Flask) -> None:
    with app.test_request_context():
        assert url_for("vapi.webhook") == "/vapi/webhook"


# -- 401 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Vapi-Secret": "wrong"}, {"X-Vapi-Secret": SECRET + "x"}, {"Authorization": SECRET}],
)
def test_unauthenticated_request_is_401_and_not_dispatched(
    post: Any, received: Any, headers: dict[str, str]
) -> None:
    response = post(STATUS, headers=headers)
    body = error_body(response, 401, "unauthorized")
    assert SECRET not in response.get_data(as_text=True)
    assert "X-Vapi-Secret" in body["message"]
    assert received.names() == ["request_rejected"]
    rejected = received.of("request_rejected")[0]
    assert rejected["status"] == 401
    assert rejected["code"] == "unauthorized"
    assert rejected["body"] is None  # unauthenticated content is handed to no one


def test_auth_runs_before_json_parsing(client: Any) -> None:
    response = client.post("/vapi/webhook", data=b"not json", headers={"X-Vapi-Secret": "no"})
    error_body(response, 401, "unauthorized")


def test_rejection_log_line_has_no_secret(client: Any, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="flask_vapi"):
        client.post(
            "/vapi/webhook", json={"message": STATUS}, headers={"X-Vapi-Secret": SECRET[:-1]}
        )
    assert "401" in caplog.text
    assert SECRET[:-1] not in caplog.text


# -- 400 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "invalid_json"),
        (b"{not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[1, 2]", "invalid_envelope"),
        (b'"message"', "invalid_envelope"),
        (b"{}", "invalid_envelope"),
        (b'{"message": "status-update"}', "invalid_envelope"),
        (b'{"message": []}', "invalid_envelope"),
        (b'{"message": {}}', "invalid_envelope"),
        (b'{"message": {"type": 3}}', "invalid_envelope"),
        (b'{"message": {"type": null}}', "invalid_envelope"),
    ],
)
def test_malformed_body_is_400(client: Any, received: Any, data: bytes, code: str) -> None:
    response = client.post(
        "/vapi/webhook", data=data, headers=HEADERS, content_type="application/json"
    )
    error_body(response, 400, code)
    assert received.names() == ["request_rejected"]
    assert received.of("request_rejected")[0]["body"] == data  # nothing is lost


# -- 422 ------------------------------------------------------------------------------


def test_known_type_missing_vital_fields_is_422_with_field_errors(post: Any, received: Any) -> None:
    response = post({"type": "tool-calls", "toolWithToolCallList": []})
    body = error_body(response, 422, "invalid_message")
    assert body["errors"] == {"toolCallList": ["Missing data for required field."]}
    assert "tool-calls" in body["message"]
    rejected = received.of("request_rejected")[0]
    assert rejected["status"] == 422
    assert b"tool-calls" in rejected["body"]
    assert "tool_calls" not in received.names()


def test_nested_field_errors_are_reported_by_path(post: Any) -> None:
    response = post({"type": "tool-calls", "toolCallList": [{"id": "a", "function": {}}, {}]})
    body = error_body(response, 422, "invalid_message")
    assert body["errors"] == {"toolCallList": {"1": {"id": ["Missing data for required field."]}}}


def test_wrong_vital_field_type_is_422(post: Any) -> None:
    body = error_body(post({"type": "function-call", "functionCall": 5}), 422, "invalid_message")
    assert body["errors"] == {"functionCall": ["Not a valid object."]}


def test_informational_fields_missing_or_odd_are_delivered(post: Any, received: Any) -> None:
    response = post({"type": "end-of-call-report", "artifact": "nope"})
    assert response.status_code == 200
    message = received.of("end_of_call_report")[0]["message"]
    assert message.invalid_fields == {
        "endedReason": ["Missing data for required field."],
        "artifact": ["Not a valid object."],
        "analysis": ["Missing data for required field."],
    }


# -- 413 ------------------------------------------------------------------------------


def test_body_over_limit_is_413(make_app: Callable[..., Flask], received: Any) -> None:
    app = make_app(VAPI_MAX_CONTENT_LENGTH=1000)
    client = app.test_client()
    small = client.post("/vapi/webhook", json={"message": STATUS}, headers=HEADERS)
    assert small.status_code == 200
    big = {"message": {**STATUS, "padding": "x" * 1000}}
    body = error_body(
        client.post("/vapi/webhook", json=big, headers=HEADERS), 413, "payload_too_large"
    )
    assert "1000" in body["message"]
    assert received.of("request_rejected")[-1]["status"] == 413


def test_chunked_body_over_limit_is_413(make_app: Callable[..., Flask]) -> None:
    app = make_app(VAPI_MAX_CONTENT_LENGTH=50)
    payload = (
        b'{"message": {"type": "status-update", "status": "ended", "x": "' + b"y" * 100 + b'"}}'
    )
    environ = {"wsgi.input_terminated": True}
    client = app.test_client()
    response = client.post(
        "/vapi/webhook",
        input_stream=io.BytesIO(payload),
        headers={**HEADERS, "Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides=environ,
    )
    error_body(response, 413, "payload_too_large")
    ok = client.post(
        "/vapi/webhook",
        input_stream=io.BytesIO(b'{"message": {"type": "hang"}}'),
        headers={**HEADERS, "Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides=environ,
    )
    assert ok.status_code == 200


# -- 405 ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_are_405_json(client: Any, method: str) -> None:
    response = client.open("/vapi/webhook", method=method, headers=HEADERS)
    error_body(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"


# -- registration and options ----------------------------------------------------------


def test_registration_without_auth_fails_clearly() -> None:
    app = Flask("no_auth")
    with pytest.raises(ConfigurationError, match=r"VAPI_SECRET.*VAPI_AUTH_DISABLED"):
        app.register_blueprint(VapiBlueprint())
    assert "vapi" not in app.blueprints


def test_auth_disabled_accepts_requests_and_warns_outside_testing(caplog: Any) -> None:
    app = Flask("insecure")
    app.config["VAPI_AUTH_DISABLED"] = True
    with caplog.at_level(logging.WARNING, logger="flask_vapi"):
        app.register_blueprint(VapiBlueprint())
    assert "VAPI_AUTH_DISABLED" in caplog.text
    response = app.test_client().post("/vapi/webhook", json={"message": STATUS})
    assert response.status_code == 200


@pytest.mark.parametrize("flag", ["TESTING", "DEBUG"])
def test_auth_disabled_is_quiet_in_testing_and_debug(caplog: Any, flag: str) -> None:
    app = Flask("insecure_dev")
    app.config.update({"VAPI_AUTH_DISABLED": True, flag: True})
    with caplog.at_level(logging.WARNING, logger="flask_vapi"):
        app.register_blueprint(VapiBlueprint())
    assert "VAPI_AUTH_DISABLED" not in caplog.text


def test_two_endpoints_with_their_own_settings(received: Any) -> None:
    sales = VapiBlueprint("sales", url_prefix="/sales", config_prefix="VAPI_SALES_")
    support = VapiBlueprint()
    app = Flask("two")
    app.config.update(VAPI_SECRET="support-secret", VAPI_SALES_SECRET="sales-secret")
    app.register_blueprint(support)
    app.register_blueprint(sales)
    client = app.test_client()

    def send(url: str, secret: str) -> int:
        return client.post(
            url, json={"message": STATUS}, headers={"X-Vapi-Secret": secret}
        ).status_code

    assert send("/sales/webhook", "sales-secret") == 200
    assert send("/sales/webhook", "support-secret") == 401
    assert send("/vapi/webhook", "support-secret") == 200
    assert send("/vapi/webhook", "sales-secret") == 401
    blueprints = [kw["blueprint"] for kw in received.of("status_update")]
    assert blueprints == [sales, support]
    with app.test_request_context():
        assert url_for("sales.webhook") == "/sales/webhook"


def test_settings_are_read_at_registration(
    make_app: Callable[..., Flask], vapi: VapiBlueprint
) -> None:
    app = make_app(vapi)
    app.config["VAPI_SECRET"] = "changed-later"
    response = app.test_client().post(
        "/vapi/webhook", json={"message": STATUS}, headers={"X-Vapi-Secret": SECRET}
    )
    assert response.status_code == 200
    assert vapi.settings_for(app).max_content_length == 16 * 1024 * 1024


def test_large_realistic_report_is_accepted(post: Any, received: Any) -> None:
    response = post(make_end_of_call_report(messages=300))
    assert response.status_code == 200
    message = received.of("end_of_call_report")[0]["message"]
    assert len(message.artifact.messages) == 300
