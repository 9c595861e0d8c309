"""1,000 fuzzed bodies through the event log: no secret, token, signature or control URL is kept."""

from __future__ import annotations

import string
from typing import Any

from flask import Flask, request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_vapi import VapiBlueprint, payloads
from flask_vapi.store.memory import MemoryStore
from flask_vapi.testing import VapiClient

HMAC_SECRET = "hmac-secret-9f8e7d6c5b4a"
CONTROL_TOKEN = "control-token-0a1b2c3d4e"
EXAMPLES = 1000

# Marked, so that a token never coincides with the ordinary words of a message.
TOKENS = st.text(string.ascii_letters + string.digits + "._-", min_size=12, max_size=40).map(
    lambda token: "Tk9" + token
)
HOSTS = st.from_regex(r"[a-z]{1,12}(\.[a-z]{2,8}){1,3}", fullmatch=True)
CAPABILITY_URLS = st.builds(
    lambda scheme, host, call, kind, tail: f"{scheme}://{host}/{call}/{kind}{tail}",
    st.sampled_from(["https", "http", "wss", "ws"]),
    HOSTS,
    st.text(string.ascii_lowercase + string.digits, min_size=6, max_size=24),
    st.sampled_from(["control", "listen"]),
    st.sampled_from(["", "?x=1", "/", "#part"]),
)
CREDENTIAL_KEYS = st.sampled_from(
    [
        "secret",
        "X-Vapi-Secret",
        "Authorization",
        "apiKey",
        "api_key",
        "token",
        "accessToken",
        "password",
        "x-signature",
        "credentials",
        "Cookie",
        "privateKey",
    ]
)
FILLER = st.text(string.ascii_letters + " .,:", max_size=12)


@st.composite
def planted(draw: st.DrawFn, found: list[str]) -> Any:
    """A JSON value hiding one kind of secret, the secret appended to ``found``."""
    how = draw(st.sampled_from(["secret", "bearer", "url", "credential", "capability-key"]))
    if how == "secret":
        secret = draw(st.sampled_from([HMAC_SECRET, CONTROL_TOKEN]))
        found.append(secret)
        return draw(FILLER) + secret + draw(FILLER)
    if how == "bearer":
        token = draw(TOKENS)
        found.append(token)
        return f"{draw(FILLER)} {draw(st.sampled_from(['Bearer', 'bearer', 'Basic']))} {token}"
    if how == "url":
        url = draw(CAPABILITY_URLS)
        found.append(url.split("?")[0].split("#")[0])
        return draw(FILLER) + " " + url + " " + draw(FILLER)
    value = draw(TOKENS)
    found.append(value)
    key = (
        draw(CREDENTIAL_KEYS)
        if how == "credential"
        else draw(st.sampled_from(["controlUrl", "listenUrl"]))
    )
    nested = draw(st.booleans())
    return {key: {"value": value} if nested and how == "credential" else value}


@st.composite
def bodies(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    """A Vapi message with secrets planted at random places in it, and the secrets."""
    make = draw(
        st.sampled_from(
            [
                payloads.make_status_update,
                payloads.make_end_of_call_report,
                payloads.make_transcript,
                lambda: payloads.make_tool_calls(("lookup", {"q": "x"})),
            ]
        )
    )
    message = make()
    found: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["top", "call", "deep", "list", "arguments"]))
        name = "x" + draw(st.text(string.ascii_lowercase, min_size=1, max_size=8))
        value = draw(planted(found))
        if where == "top":
            message[name] = value
        elif where == "call":
            message["call"][name] = value
        elif where == "deep":
            message.setdefault("call", {}).setdefault("assistant", {})["server"] = {
                "headers": {name: value}
            }
        elif where == "list":
            message[name] = [draw(FILLER), value]
        elif "toolCallList" in message:
            message["toolCallList"][0]["function"]["arguments"] = {"q": value}
        else:
            message[name] = value
    return {"message": message}, found


def test_the_event_log_keeps_no_secret_token_signature_or_control_url() -> None:
    vapi = VapiBlueprint()

    @vapi.tool("lookup")
    def lookup(q: Any) -> Any:
        return f"looked up {q}" if isinstance(q, str) else {"looked up": q}  # echoes secrets

    app = Flask("redaction")
    app.config.update(
        TESTING=True,
        VAPI_HMAC_SECRET=HMAC_SECRET,
        VAPI_CONTROL_TOKEN=CONTROL_TOKEN,
        VAPI_EVENT_LOG=True,
        VAPI_DEDUPLICATE=False,
    )
    app.register_blueprint(vapi)
    app.test_client_class = VapiClient
    signatures: list[str] = []

    @app.before_request
    def keep_signature() -> None:
        signatures.append(request.headers["x-signature"])

    client = app.test_client()
    planted_secrets: list[str] = []
    statuses: list[int] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=bodies())
    def post(body: tuple[dict[str, Any], list[str]]) -> None:
        payload, found = body
        planted_secrets.extend(found)
        statuses.append(client.send_message(payload["message"]).status_code)

    post()
    log = vapi.event_log(app)
    assert log is not None and log.flush(timeout=60)
    store = app.extensions["vapi"]["vapi"].store
    assert isinstance(store, MemoryStore)
    kept = b"\n".join(
        key.encode() + b"=" + (b"".join(value) if isinstance(value, list) else value)
        for key, (value, _) in (store._data or {}).items()
    )
    assert len(statuses) == EXAMPLES and set(statuses) == {200}
    assert sum(len(log.events(s["call_id"])) for s in log.calls(limit=10_000)) > 0
    for secret in {*planted_secrets, *signatures, HMAC_SECRET, CONTROL_TOKEN}:
        at = kept.find(secret.encode())
        assert at < 0, (secret, kept[max(0, at - 100) : at + len(secret) + 40])
