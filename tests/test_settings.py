"""Every ``VAPI_*`` config key through the blueprint: auth modes end to end, limits, fallbacks."""

from __future__ import annotations

import ast
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
from flask import Flask

from flask_vapi import ConfigurationError, VapiBlueprint
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


#: Every key and its default, as the README documents them (pinned here, not read from the code).
DOCUMENTED_DEFAULTS: dict[str, Any] = {
    "VAPI_SECRET": None,
    "VAPI_BEARER_TOKEN": None,
    "VAPI_BEARER_HEADER": "Authorization",
    "VAPI_BEARER_PREFIX_ENABLED": True,
    "VAPI_HMAC_SECRET": None,
    "VAPI_HMAC_ALGORITHM": "sha256",
    "VAPI_HMAC_SIGNATURE_HEADER": "x-signature",
    "VAPI_HMAC_TIMESTAMP_HEADER": "x-timestamp",
    "VAPI_HMAC_INCLUDE_TIMESTAMP": True,
    "VAPI_HMAC_PAYLOAD_FORMAT": None,
    "VAPI_HMAC_MESSAGE_ID_HEADER": None,
    "VAPI_HMAC_SIGNATURE_PREFIX": "",
    "VAPI_HMAC_SIGNATURE_ENCODING": "hex",
    "VAPI_HMAC_SECRET_IS_BASE64": False,
    "VAPI_HMAC_TOLERANCE": 300,
    "VAPI_HEADERS": None,
    "VAPI_AUTH_DISABLED": False,
    "VAPI_MAX_CONTENT_LENGTH": 16777216,
    "VAPI_FALLBACK_RESPONSES": {},
    "VAPI_SERVER_TIMEOUT": 20,
    "VAPI_DEADLINES": {},
    "VAPI_MAX_WORKERS": 32,
    "VAPI_CONTROL_TOKEN": None,
    "VAPI_STORE_URL": None,
    "VAPI_CALL_STATE_TTL": 3600,
    "VAPI_DEDUPLICATE": True,
    "VAPI_DEDUPLICATE_TTL": 86400,
    "VAPI_BACKGROUND": "thread",
    "VAPI_BACKGROUND_WORKERS": 4,
    "VAPI_EVENT_LOG": None,
    "VAPI_EVENT_LOG_MAX_AGE": 86400,
    "VAPI_EVENT_LOG_MAX_EVENTS": 1000,
    "VAPI_EVENT_LOG_MAX_CALLS": 500,
    "VAPI_INSPECTOR_TOKEN": None,
}


def test_documented_defaults_are_filled_in_with_setdefault() -> None:
    app = build(VAPI_SECRET="s", VAPI_HMAC_TOLERANCE=60)
    for key, default in DOCUMENTED_DEFAULTS.items():
        if key not in ("VAPI_SECRET", "VAPI_HMAC_TOLERANCE"):
            assert app.config[key] == default, key
            assert type(app.config[key]) is type(default), key
    assert (app.config["VAPI_SECRET"], app.config["VAPI_HMAC_TOLERANCE"]) == ("s", 60)
    assert {key for key in app.config if key.startswith("VAPI_")} == set(DOCUMENTED_DEFAULTS)
    assert {"VAPI_" + key for key in DEFAULTS} == set(DOCUMENTED_DEFAULTS)


def test_a_mutable_default_is_not_shared_between_apps() -> None:
    first, second = build(VAPI_SECRET="s"), build(VAPI_SECRET="s")
    first.config["VAPI_FALLBACK_RESPONSES"]["campaign.predial"] = {"eligible": False}
    assert second.config["VAPI_FALLBACK_RESPONSES"] == {}


def test_the_readme_table_lists_every_key_with_its_default() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(VAPI_[A-Z0-9_]+)` \| `([^`]*)` \|", readme, flags=re.MULTILINE)
    assert {key: ast.literal_eval(default) for key, default in rows} == DOCUMENTED_DEFAULTS


def signed_now(
    secret: bytes = b"k",
    payload: str = "{timestamp}.{body}",
    age: int = 0,
    extra: dict[str, str] | None = None,
    **options: Any,
) -> dict[str, str]:
    """HMAC headers for ``BODY``, signed ``age`` seconds ago, computed independently."""
    stamp = str(int(time.time()) - age)
    text = payload.replace("{timestamp}", stamp).replace("{svix-id}", "msg_1")
    message = text.encode().replace(b"{body}", BODY)
    return {**hmac_headers(secret, message, timestamp=stamp, **options), **(extra or {})}


def _hmac_case(config: dict[str, Any], good: dict[str, Any], bad: dict[str, Any]) -> Any:
    """Requests signed with the ``good`` options pass, with the ``bad`` ones fail."""
    config = {"VAPI_SECRET": None, "VAPI_HMAC_SECRET": "k", **config}
    return config, lambda: signed_now(**good), lambda: signed_now(**bad)


def _static(good: dict[str, str], bad: dict[str, str]) -> Any:
    return (lambda: good), (lambda: bad)


#: Each auth key set to something other than its default: (config, passes, what the default
#: would accept but this value refuses).
HONOURED: dict[str, tuple[dict[str, Any], Any, Any]] = {
    "VAPI_SECRET": ({"VAPI_SECRET": "s"}, *_static({"X-Vapi-Secret": "s"}, {})),
    "VAPI_BEARER_TOKEN": (
        {"VAPI_SECRET": None, "VAPI_BEARER_TOKEN": "t"},
        *_static({"Authorization": "Bearer t"}, {"Authorization": "Bearer u"}),
    ),
    "VAPI_BEARER_HEADER": (
        {"VAPI_SECRET": None, "VAPI_BEARER_TOKEN": "t", "VAPI_BEARER_HEADER": "X-T"},
        *_static({"X-T": "Bearer t"}, {"Authorization": "Bearer t"}),
    ),
    "VAPI_BEARER_PREFIX_ENABLED": (
        {"VAPI_SECRET": None, "VAPI_BEARER_TOKEN": "t", "VAPI_BEARER_PREFIX_ENABLED": False},
        *_static({"Authorization": "t"}, {"Authorization": "Bearer t"}),
    ),
    "VAPI_HMAC_SECRET": _hmac_case({}, {}, {"secret": b"other"}),
    "VAPI_HMAC_ALGORITHM": _hmac_case(
        {"VAPI_HMAC_ALGORITHM": "sha512"}, {"algorithm": "sha512"}, {}
    ),
    "VAPI_HMAC_SIGNATURE_HEADER": _hmac_case(
        {"VAPI_HMAC_SIGNATURE_HEADER": "X-S"}, {"signature_header": "X-S"}, {}
    ),
    "VAPI_HMAC_TIMESTAMP_HEADER": _hmac_case(
        {"VAPI_HMAC_TIMESTAMP_HEADER": "X-T"}, {"timestamp_header": "X-T"}, {}
    ),
    "VAPI_HMAC_INCLUDE_TIMESTAMP": _hmac_case(
        {"VAPI_HMAC_INCLUDE_TIMESTAMP": False}, {"payload": "{body}"}, {}
    ),
    "VAPI_HMAC_PAYLOAD_FORMAT": _hmac_case(
        {"VAPI_HMAC_PAYLOAD_FORMAT": "{timestamp}:{body}"}, {"payload": "{timestamp}:{body}"}, {}
    ),
    "VAPI_HMAC_MESSAGE_ID_HEADER": _hmac_case(
        {
            "VAPI_HMAC_MESSAGE_ID_HEADER": "svix-id",
            "VAPI_HMAC_PAYLOAD_FORMAT": "{svix-id}.{timestamp}.{body}",
        },
        {"payload": "{svix-id}.{timestamp}.{body}", "extra": {"svix-id": "msg_1"}},
        {"payload": "{svix-id}.{timestamp}.{body}", "extra": {"webhook-id": "msg_1"}},
    ),
    "VAPI_HMAC_SIGNATURE_PREFIX": _hmac_case(
        {"VAPI_HMAC_SIGNATURE_PREFIX": "v1="}, {"prefix": "v1="}, {}
    ),
    "VAPI_HMAC_SIGNATURE_ENCODING": _hmac_case(
        {"VAPI_HMAC_SIGNATURE_ENCODING": "base64"}, {"encode": "base64"}, {}
    ),
    "VAPI_HMAC_SECRET_IS_BASE64": _hmac_case(
        {"VAPI_HMAC_SECRET": base64.b64encode(b"raw").decode(), "VAPI_HMAC_SECRET_IS_BASE64": True},
        {"secret": b"raw"},
        {"secret": base64.b64encode(b"raw")},
    ),
    "VAPI_HMAC_TOLERANCE": _hmac_case({"VAPI_HMAC_TOLERANCE": 10}, {"age": 5}, {"age": 60}),
    "VAPI_HEADERS": (
        {"VAPI_SECRET": None, "VAPI_HEADERS": {"X-K": "v"}},
        *_static({"X-K": "v"}, {"X-K": "w"}),
    ),
}


@pytest.mark.parametrize("key", HONOURED)
def test_each_auth_key_is_honoured(key: str) -> None:
    config, good, bad = HONOURED[key]
    assert key in config
    app = build(**config)
    assert send(app, good()) == 200
    assert send(app, bad()) == 401


def test_auth_disabled_is_honoured() -> None:
    assert send(build(VAPI_AUTH_DISABLED=True), {}) == 200


def test_max_content_length_is_honoured() -> None:
    app = build(VAPI_SECRET="s", VAPI_MAX_CONTENT_LENGTH=len(BODY))
    assert send(app, {"X-Vapi-Secret": "s"}) == 200
    assert send(app, {"X-Vapi-Secret": "s"}, body=BODY + b" ") == 413


def test_fallback_responses_are_honoured() -> None:
    vapi = VapiBlueprint()

    @vapi.assistant_request
    def broken(message: Any) -> Any:
        raise RuntimeError("down")

    app = Flask("fallback")
    app.config.update(
        TESTING=True,
        VAPI_SECRET="s",
        VAPI_FALLBACK_RESPONSES={"assistant-request": {"assistantId": "backup"}},
    )
    app.register_blueprint(vapi)
    body = json.dumps({"message": {"type": "assistant-request"}})
    response = app.test_client().post(
        "/vapi/webhook", data=body, headers={"X-Vapi-Secret": "s"}, content_type="application/json"
    )
    assert response.get_json() == {"assistantId": "backup"}


def test_every_documented_key_is_shown_to_be_honoured() -> None:
    others = {"VAPI_AUTH_DISABLED", "VAPI_MAX_CONTENT_LENGTH", "VAPI_FALLBACK_RESPONSES"}
    # Shown in tests/test_deadlines.py, test_deadline_settings.py and test_late_delivery.py.
    others |= {"VAPI_SERVER_TIMEOUT", "VAPI_DEADLINES", "VAPI_MAX_WORKERS", "VAPI_CONTROL_TOKEN"}
    # Shown in tests/test_call_state.py, test_dedup.py and tests/background/.
    others |= {
        "VAPI_STORE_URL",
        "VAPI_CALL_STATE_TTL",
        "VAPI_DEDUPLICATE",
        "VAPI_DEDUPLICATE_TTL",
        "VAPI_BACKGROUND",
        "VAPI_BACKGROUND_WORKERS",
    }
    # Shown in tests/test_event_log.py and tests/inspector/.
    others |= {
        "VAPI_EVENT_LOG",
        "VAPI_EVENT_LOG_MAX_AGE",
        "VAPI_EVENT_LOG_MAX_EVENTS",
        "VAPI_EVENT_LOG_MAX_CALLS",
        "VAPI_INSPECTOR_TOKEN",
    }
    assert set(HONOURED) | others == set(DOCUMENTED_DEFAULTS)


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


# -- contradictions and typos fail or speak up at startup ------------------------------------

TOPSECRET = "TOPSECRET-do-not-print"


@pytest.mark.parametrize(
    "credential",
    [
        {"VAPI_SECRET": TOPSECRET},
        {"VAPI_BEARER_TOKEN": TOPSECRET},
        {"VAPI_HMAC_SECRET": TOPSECRET},
        {"VAPI_HEADERS": {"X-Api-Key": TOPSECRET}},
    ],
)
def test_auth_disabled_with_a_credential_is_refused(credential: dict[str, Any]) -> None:
    """Would the credential be checked or not?  Neither guess is safe: registration fails."""
    app = Flask("contradiction")
    app.config.update(VAPI_AUTH_DISABLED=True, **credential)
    with pytest.raises(ConfigurationError) as excinfo:
        app.register_blueprint(VapiBlueprint())
    (key,) = credential
    message = str(excinfo.value)
    assert message.startswith(f"VAPI_AUTH_DISABLED = True contradicts {key}: ")
    assert "set VAPI_AUTH_DISABLED = False" in message
    assert TOPSECRET not in message
    assert "vapi" not in app.blueprints


def test_auth_disabled_without_credentials_still_accepts_requests() -> None:
    app = build(VAPI_AUTH_DISABLED=True, VAPI_SECRET=None, VAPI_HEADERS={})
    assert send(app, {}) == 200


def typo_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "flask_vapi" and record.levelno == logging.WARNING
    ]


@pytest.mark.parametrize(
    ("typo", "known"),
    [
        ("VAPI_HMAC_TOLERENCE", "VAPI_HMAC_TOLERANCE"),
        ("VAPI_SECRETS", "VAPI_SECRET"),
        ("VAPI_Secret", "VAPI_SECRET"),
        ("VAPI_BEARER_TOKENS", "VAPI_BEARER_TOKEN"),
        ("VAPI_HEADER", "VAPI_HEADERS"),
        ("VAPI_HMAC_SECRET_BASE64", "VAPI_HMAC_SECRET_IS_BASE64"),
        ("VAPI_AUTH_DISABLE", "VAPI_AUTH_DISABLED"),
        ("VAPI_MAX_CONTENT_LENGHT", "VAPI_MAX_CONTENT_LENGTH"),
        ("VAPI_FALLBACK_RESPONSE", "VAPI_FALLBACK_RESPONSES"),
    ],
)
def test_a_misspelt_key_is_logged_with_the_closest_known_key(
    caplog: pytest.LogCaptureFixture, typo: str, known: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_vapi"):
        build(VAPI_SECRET="s", **{typo: TOPSECRET})
    assert typo_warnings(caplog) == [
        f"{typo} is not a flask_vapi setting and is ignored: did you mean {known}?"
    ]


@pytest.mark.parametrize(
    "key",
    [
        "VAPI_API_KEY",
        "VAPI_PUBLIC_KEY",
        "VAPI_PRIVATE_KEY",
        "VAPI_PHONE_NUMBER_ID",
        "VAPI_ASSISTANT_ID",
        "VAPI_ORG_ID",
        "VAPI_BASE_URL",
        "VAPI_SERVER_URL",
        "VAPI_WEBHOOK_SECRET",
        "VAPI_SECRET_KEY",
        "VAPI_OLD_SECRET",  # could be another blueprint's VAPI_OLD_ prefix
    ],
)
def test_the_applications_own_keys_are_not_typos(
    caplog: pytest.LogCaptureFixture, key: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_vapi"):
        build(VAPI_SECRET="s", **{key: "value"})
    assert typo_warnings(caplog) == []


@pytest.mark.parametrize("sales_first", [True, False])
def test_keys_of_another_blueprints_prefix_are_not_typos(
    caplog: pytest.LogCaptureFixture, sales_first: bool
) -> None:
    app = Flask("two")
    app.config.update(
        TESTING=True,
        VAPI_SECRET="support",
        VAPI_SALES_BEARER_TOKEN="sales",
        VAPI_SALES_MAX_CONTENT_LENGTH=1000,
        VAPI_SALES_HMAC_TOLERENCE=10,
    )
    sales = VapiBlueprint("sales", url_prefix="/sales", config_prefix="VAPI_SALES_")
    blueprints = [VapiBlueprint(), sales]
    with caplog.at_level(logging.WARNING, logger="flask_vapi"):
        for blueprint in reversed(blueprints) if sales_first else blueprints:
            app.register_blueprint(blueprint)
    assert typo_warnings(caplog) == [
        "VAPI_SALES_HMAC_TOLERENCE is not a flask_vapi setting and is ignored: "
        "did you mean VAPI_SALES_HMAC_TOLERANCE?"
    ]
