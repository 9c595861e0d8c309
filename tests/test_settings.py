"""Every ``VAPI_*`` config key through the blueprint: auth modes end to end, limits, fallbacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from flask import Flask

from flask_vapi import ConfigurationError, VapiBlueprint
from flask_vapi import auth as auth_module
from flask_vapi.settings import DEFAULTS

BODY = json.dumps({"message": {"type": "status-update", "status": "ringing"}}).encode()
URL = "http://localhost/vapi/webhook"


def build(**config: Any) -> Flask:
    app = Flask("settings_app")
    app.config.update({"TESTING": True, **config})
    app.register_blueprint(VapiBlueprint())
    return app


def send(
    app: Flask, headers: dict[str, str], body: bytes = BODY, path: str = "/vapi/webhook"
) -> int:
    response = app.test_client().post(
        path, data=body, headers=headers, content_type="application/json"
    )
    return response.status_code


def hmac_headers(
    secret: bytes,
    payload: bytes,
    *,
    algorithm: str = "sha256",
    timestamp: str | None = None,
    signature_header: str = "x-signature",
    timestamp_header: str = "x-timestamp",
    prefix: str = "",
    encode: str = "hex",
) -> dict[str, str]:
    """Headers computed independently of flask_vapi, from Vapi's documented recipe."""
    digest = hmac.new(secret, payload, getattr(hashlib, algorithm)).digest()
    signature = digest.hex() if encode == "hex" else base64.b64encode(digest).decode()
    headers = {signature_header: prefix + signature}
    if timestamp is not None:
        headers[timestamp_header] = timestamp
    return headers


# -- auth modes through the blueprint ----------------------------------------------------


def test_secret_with_rotation() -> None:
    app = build(VAPI_SECRET=["new-secret", "old-secret"])
    assert send(app, {"X-Vapi-Secret": "new-secret"}) == 200
    assert send(app, {"x-vapi-secret": "old-secret"}) == 200
    assert send(app, {"X-Vapi-Secret": "other"}) == 401


@pytest.mark.parametrize(
    ("config", "good", "bad"),
    [
        ({}, {"Authorization": "Bearer tok"}, {"Authorization": "tok"}),
        (
            {"VAPI_BEARER_PREFIX_ENABLED": False},
            {"Authorization": "tok"},
            {"Authorization": "Bearer tok"},
        ),
        (
            {"VAPI_BEARER_HEADER": "X-Api-Key"},
            {"X-Api-Key": "Bearer tok"},
            {"Authorization": "Bearer tok"},
        ),
    ],
)
def test_bearer_options(config: dict[str, Any], good: dict[str, str], bad: dict[str, str]) -> None:
    app = build(VAPI_BEARER_TOKEN=["tok", "tok-2"], **config)
    assert send(app, good) == 200
    assert send(app, bad) == 401


def test_hmac_defaults_follow_vapis_recipe() -> None:
    app = build(VAPI_HMAC_SECRET="hmac-key")
    stamp = str(int(time.time()))
    headers = hmac_headers(b"hmac-key", stamp.encode() + b"." + BODY, timestamp=stamp)
    assert send(app, headers) == 200
    assert send(app, headers, body=BODY.replace(b"ringing", b"ended")) == 401
    stale = str(int(time.time()) - 301)
    assert (
        send(app, hmac_headers(b"hmac-key", stale.encode() + b"." + BODY, timestamp=stale)) == 401
    )
    future = str(int(time.time()) + 301)
    assert (
        send(app, hmac_headers(b"hmac-key", future.encode() + b"." + BODY, timestamp=future)) == 401
    )


def test_hmac_every_option() -> None:
    secret = base64.b64encode(b"raw-key-bytes").decode()
    app = build(
        VAPI_HMAC_SECRET=[base64.b64encode(b"rotated-out").decode(), secret],
        VAPI_HMAC_SECRET_IS_BASE64=True,
        VAPI_HMAC_ALGORITHM="sha512",
        VAPI_HMAC_SIGNATURE_HEADER="X-Vapi-Signature",
        VAPI_HMAC_TIMESTAMP_HEADER="X-Vapi-Timestamp",
        VAPI_HMAC_INCLUDE_TIMESTAMP=True,
        VAPI_HMAC_PAYLOAD_FORMAT="{method}|{url}|{svix-id}|{timestamp}|{body}",
        VAPI_HMAC_MESSAGE_ID_HEADER="X-Message-Id",
        VAPI_HMAC_SIGNATURE_PREFIX="v1=",
        VAPI_HMAC_SIGNATURE_ENCODING="base64",
        VAPI_HMAC_TOLERANCE=60,
    )
    stamp = str(int(time.time() * 1000))  # milliseconds are accepted too
    payload = f"POST|{URL}|msg_1|{stamp}|".encode() + BODY
    headers = {
        **hmac_headers(
            b"raw-key-bytes",
            payload,
            algorithm="sha512",
            timestamp=stamp,
            signature_header="X-Vapi-Signature",
            timestamp_header="X-Vapi-Timestamp",
            prefix="v1=",
            encode="base64",
        ),
        "X-Message-Id": "msg_1",
    }
    assert send(app, headers) == 200
    assert send(app, {**headers, "X-Message-Id": "msg_2"}) == 401
    assert send(app, headers, path="/vapi/webhook?x=1") == 401  # {url} is signed
    old = str(int(time.time() * 1000) - 61_000)
    assert send(app, {**headers, "X-Vapi-Timestamp": old}) == 401


def test_hmac_without_timestamp_signs_the_body() -> None:
    app = build(VAPI_HMAC_SECRET="k", VAPI_HMAC_INCLUDE_TIMESTAMP=False, VAPI_HMAC_TOLERANCE=None)
    assert send(app, hmac_headers(b"k", BODY)) == 200
    assert send(app, hmac_headers(b"k", b"0." + BODY, timestamp="0")) == 401


def test_static_headers() -> None:
    app = build(VAPI_HEADERS={"X-Api-Key": ["k1", "k2"], "X-Tenant": "clinic"})
    assert send(app, {"X-Api-Key": "k2", "X-Tenant": "clinic"}) == 200
    assert send(app, {"X-Api-Key": "k2"}) == 401


def test_every_configured_mode_must_pass() -> None:
    app = build(VAPI_SECRET="s", VAPI_BEARER_TOKEN="t")
    assert send(app, {"X-Vapi-Secret": "s", "Authorization": "Bearer t"}) == 200
    assert send(app, {"X-Vapi-Secret": "s"}) == 401
    assert send(app, {"Authorization": "Bearer t"}) == 401


def test_config_prefix_reads_its_own_keys() -> None:
    app = Flask("prefixed")
    app.config.update(VAPI_SALES_BEARER_TOKEN="sales", VAPI_SALES_MAX_CONTENT_LENGTH=10_000)
    blueprint = VapiBlueprint("sales", url_prefix="/sales", config_prefix="VAPI_SALES_")
    app.register_blueprint(blueprint)
    assert send(app, {"Authorization": "Bearer sales"}, path="/sales/webhook") == 200
    assert blueprint.settings_for(app).max_content_length == 10_000
    assert "VAPI_SECRET" not in app.config


# -- other keys ----------------------------------------------------------------------------


def test_defaults_are_filled_in_with_setdefault() -> None:
    app = build(VAPI_SECRET="s")
    for key, default in {**auth_module.DEFAULTS, **DEFAULTS}.items():
        if key != "SECRET":
            assert app.config["VAPI_" + key] == default


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"VAPI_AUTH_DISABLED": "yes"}, "VAPI_AUTH_DISABLED must be True or False"),
        ({"VAPI_SECRET": "s", "VAPI_MAX_CONTENT_LENGTH": 0}, "VAPI_MAX_CONTENT_LENGTH"),
        ({"VAPI_SECRET": "s", "VAPI_MAX_CONTENT_LENGTH": "1MB"}, "VAPI_MAX_CONTENT_LENGTH"),
        ({"VAPI_SECRET": "s", "VAPI_MAX_CONTENT_LENGTH": True}, "VAPI_MAX_CONTENT_LENGTH"),
        (
            {"VAPI_SECRET": "s", "VAPI_FALLBACK_RESPONSES": []},
            "VAPI_FALLBACK_RESPONSES must be a dict",
        ),
        (
            {"VAPI_SECRET": "s", "VAPI_FALLBACK_RESPONSES": {"status-update": {}}},
            "no response-bearing type 'status-update'",
        ),
        (
            {
                "VAPI_SECRET": "s",
                "VAPI_FALLBACK_RESPONSES": {"campaign.predial": {"eligible": "no"}},
            },
            "VAPI_FALLBACK_RESPONSES['campaign.predial'] is not a valid response",
        ),
        (
            {"VAPI_SECRET": "s", "VAPI_FALLBACK_RESPONSES": {"voice-request": "silence"}},
            "VAPI_FALLBACK_RESPONSES['voice-request'] is not a valid response",
        ),
        ({"VAPI_SECRET": ""}, "VAPI_SECRET"),
        ({"VAPI_HMAC_SECRET": "k", "VAPI_HMAC_ALGORITHM": "md5"}, "VAPI_HMAC_ALGORITHM"),
    ],
)
def test_invalid_config_fails_at_registration(config: dict[str, Any], message: str) -> None:
    app = Flask("bad_config")
    app.config.update(config)
    with pytest.raises(ConfigurationError) as excinfo:
        app.register_blueprint(VapiBlueprint())
    assert message in str(excinfo.value)
    assert "vapi" not in app.blueprints


def test_valid_fallbacks_are_accepted() -> None:
    app = build(
        VAPI_SECRET="s",
        VAPI_FALLBACK_RESPONSES={
            "voice-request": b"\x00\x00",
            "call.endpointing.request": {"timeoutSeconds": 2},
        },
    )
    fallbacks = app.blueprints["vapi"].settings_for(app).fallbacks  # type: ignore[attr-defined]
    assert fallbacks["voice-request"] == b"\x00\x00"
    assert fallbacks["call.endpointing.request"] == {"timeoutSeconds": 2}
    assert fallbacks["assistant-request"]["error"]
