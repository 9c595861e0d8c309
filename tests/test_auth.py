"""Webhook authentication: every mode, its signing inverse and its configuration checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import Any, Callable

import pytest
from werkzeug.datastructures import Headers

from flask_vapi.auth import (
    Authenticator,
    AuthRequest,
    BearerAuth,
    HeadersAuth,
    HmacAuth,
    SecretAuth,
    sign_headers,
    verify_all,
)
from flask_vapi.errors import ConfigurationError
from flask_vapi.settings import DEFAULTS, load_authenticators

NOW = 1_700_000_000.0
STAMP = "1700000000"
BODY = b'{"message":{"type":"status-update","status":"ended"}}'
FIRST, SECOND, WRONG = "first-Cr3dential", "second-Cr3dential", "wrong-Cr3dential"
TOPSECRET = "TOPSECRET-do-not-print"


def only(config: dict[str, Any], prefix: str = "VAPI_") -> Any:
    authenticators = load_authenticators(config, prefix)
    assert len(authenticators) == 1
    return authenticators[0]


def req(headers: dict[str, str], body: bytes = BODY, **kwargs: str) -> AuthRequest:
    return AuthRequest(headers=headers, body=body, **kwargs)


def assert_safe(reason: str | None, *values: str) -> None:
    """A failure reason is present and contains no credential or received header value."""
    assert reason
    for value in values:
        assert value not in reason


def independent_hmac(key: bytes, message: bytes, algorithm: str = "sha256") -> str:
    return hmac.new(key, message, getattr(hashlib, algorithm)).hexdigest()


# -- contract shared by every mode ------------------------------------------------------------

# (id, config for a list of credentials, the header carrying the credential)
MODES: list[tuple[str, Callable[[list[str]], dict[str, Any]], str]] = [
    ("secret", lambda creds: {"VAPI_SECRET": creds}, "X-Vapi-Secret"),
    ("bearer", lambda creds: {"VAPI_BEARER_TOKEN": creds}, "Authorization"),
    (
        "bearer-custom",
        lambda creds: {
            "VAPI_BEARER_TOKEN": creds,
            "VAPI_BEARER_HEADER": "X-Token",
            "VAPI_BEARER_PREFIX_ENABLED": False,
        },
        "X-Token",
    ),
    ("hmac", lambda creds: {"VAPI_HMAC_SECRET": creds}, "x-signature"),
    ("headers", lambda creds: {"VAPI_HEADERS": {"X-Api-Key": creds}}, "X-Api-Key"),
]
MODE_IDS = [mode[0] for mode in MODES]
Mode = tuple[str, Callable[[list[str]], dict[str, Any]], str]


@pytest.fixture(params=MODES, ids=MODE_IDS)
def mode(request: pytest.FixtureRequest) -> Mode:
    return request.param  # type: ignore[no-any-return]


def sign_with(authenticator: Authenticator, body: bytes, **options: Any) -> dict[str, str]:
    return sign_headers([authenticator], body, **options)


def signed(authenticator: Authenticator, body: bytes = BODY) -> dict[str, str]:
    return sign_with(authenticator, body, timestamp=NOW)


def test_signed_request_passes(mode: Mode) -> None:
    name, make, header = mode
    authenticator = only(make([FIRST]))
    assert authenticator.name == name.split("-")[0]
    headers = signed(authenticator)
    assert header in headers
    assert authenticator.verify(req(headers), NOW) is None


def test_header_lookup_is_case_insensitive(mode: Mode) -> None:
    _, make, _ = mode
    authenticator = only(make([FIRST]))
    headers = signed(authenticator)
    for transform in (str.lower, str.upper):
        changed = {transform(key): value for key, value in headers.items()}
        assert authenticator.verify(req(changed), NOW) is None


def test_missing_header_fails(mode: Mode) -> None:
    _, make, header = mode
    authenticator = only(make([FIRST]))
    headers = {k: v for k, v in signed(authenticator).items() if k.lower() != header.lower()}
    reason = authenticator.verify(req(headers), NOW)
    assert reason == f"missing {header} header"


def test_wrong_credential_fails(mode: Mode) -> None:
    _, make, header = mode
    authenticator = only(make([FIRST]))
    forged = signed(only(make([WRONG])))
    reason = authenticator.verify(req(forged), NOW)
    assert_safe(reason, FIRST, WRONG, forged[header])


@pytest.mark.parametrize("value", ["", " ", "Bearer ", "x" * 5000])
def test_junk_header_value_fails(mode: Mode, value: str) -> None:
    _, make, header = mode
    authenticator = only(make([FIRST]))
    headers = {**signed(authenticator), header: value}
    assert_safe(authenticator.verify(req(headers), NOW), FIRST)


@pytest.mark.parametrize("value", ["\u2603 snowman", "caf\u00e9", "\udc80lone surrogate"])
def test_non_ascii_header_value_does_not_raise(mode: Mode, value: str) -> None:
    _, make, header = mode
    authenticator = only(make([FIRST]))
    headers = {**signed(authenticator), header: value}
    assert_safe(authenticator.verify(req(headers), NOW), FIRST)


def test_rotation_accepts_every_credential_and_signs_with_the_first(mode: Mode) -> None:
    _, make, _ = mode
    rotating = only(make([FIRST, SECOND]))
    for credential in (FIRST, SECOND):
        assert rotating.verify(req(signed(only(make([credential])))), NOW) is None
    assert_safe(rotating.verify(req(signed(only(make([WRONG])))), NOW), FIRST, SECOND)
    headers = signed(rotating)
    assert only(make([FIRST])).verify(req(headers), NOW) is None
    assert only(make([SECOND])).verify(req(headers), NOW) is not None


def test_non_ascii_credential_round_trips_like_wsgi(mode: Mode) -> None:
    """A UTF-8 credential arrives as latin-1-decoded text under WSGI; sign() produces that."""
    _, make, header = mode
    credential = "cl\u00e9-\u2713"
    authenticator = only(make([credential]))
    headers = signed(authenticator)
    assert authenticator.verify(req(headers), NOW) is None
    if header != "x-signature":
        wsgi_text = credential.encode("utf-8").decode("latin-1")
        assert wsgi_text in headers[header]


def test_repr_hides_credentials(mode: Mode) -> None:
    _, make, _ = mode
    assert FIRST not in repr(only(make([FIRST])))
    assert FIRST.encode() not in repr(only(make([FIRST]))).encode()


def test_werkzeug_headers_are_supported(mode: Mode) -> None:
    _, make, header = mode
    authenticator = only(make([FIRST]))
    headers = Headers(list(signed(authenticator).items()))
    assert authenticator.verify(req(headers), NOW) is None
    headers.remove(header)
    assert authenticator.verify(req(headers), NOW) == f"missing {header} header"


# -- all modes together -----------------------------------------------------------------------

ALL_MODES = {
    "VAPI_SECRET": "s",
    "VAPI_BEARER_TOKEN": "b",
    "VAPI_HMAC_SECRET": "h",
    "VAPI_HEADERS": {"X-Api-Key": "k"},
}


def test_load_authenticators_order() -> None:
    authenticators = load_authenticators(ALL_MODES)
    assert [a.name for a in authenticators] == ["secret", "bearer", "hmac", "headers"]
    assert [type(a) for a in authenticators] == [SecretAuth, BearerAuth, HmacAuth, HeadersAuth]


def test_verify_all_requires_every_mode() -> None:
    authenticators = load_authenticators(ALL_MODES)
    headers: dict[str, str] = {}
    for authenticator in authenticators:
        headers.update(signed(authenticator))
    assert verify_all(authenticators, req(headers), NOW) is None
    for header in ("X-Vapi-Secret", "Authorization", "x-signature", "X-Api-Key"):
        broken = {k: v for k, v in headers.items() if k != header}
        assert verify_all(authenticators, req(broken), NOW) == f"missing {header} header"
    tampered = {**headers, "X-Api-Key": "nope"}
    assert verify_all(authenticators, req(tampered), NOW) == "X-Api-Key header does not match"


def test_verify_all_with_no_authenticators_passes() -> None:
    assert verify_all((), req({}), NOW) is None


# -- secret, bearer and static headers in detail ----------------------------------------------


def test_secret_mode_known_answer() -> None:
    authenticator = only({"VAPI_SECRET": FIRST})
    assert sign_with(authenticator, b"") == {"X-Vapi-Secret": FIRST}
    assert authenticator.verify(req({"x-vapi-secret": FIRST}), NOW) is None
    reason = authenticator.verify(req({"X-Vapi-Secret": FIRST + "x"}), NOW)
    assert reason == "X-Vapi-Secret header does not match"


@pytest.mark.parametrize(
    ("value", "passes"),
    [
        (f"Bearer {FIRST}", True),
        (f"bearer {FIRST}", True),
        (f"BEARER {FIRST}", True),
        (f"Bearer  {FIRST}", False),
        (f"Bearer {FIRST} ", False),
        (FIRST, False),
        (f"Token {FIRST}", False),
    ],
)
def test_bearer_prefix(value: str, passes: bool) -> None:
    authenticator = only({"VAPI_BEARER_TOKEN": FIRST})
    assert sign_with(authenticator, b"") == {"Authorization": f"Bearer {FIRST}"}
    reason = authenticator.verify(req({"Authorization": value}), NOW)
    if passes:
        assert reason is None
    else:
        assert_safe(reason, FIRST)


def test_bearer_without_prefix() -> None:
    authenticator = only(
        {
            "VAPI_BEARER_TOKEN": FIRST,
            "VAPI_BEARER_PREFIX_ENABLED": False,
            "VAPI_BEARER_HEADER": "X-T",
        }
    )
    assert authenticator == BearerAuth((FIRST.encode(),), header="X-T", prefix_enabled=False)
    assert sign_with(authenticator, b"") == {"X-T": FIRST}
    assert authenticator.verify(req({"X-T": FIRST}), NOW) is None
    assert authenticator.verify(req({"X-T": f"Bearer {FIRST}"}), NOW) is not None


def test_bearer_reports_missing_prefix() -> None:
    authenticator = only({"VAPI_BEARER_TOKEN": FIRST})
    reason = authenticator.verify(req({"Authorization": f"Basic {FIRST}"}), NOW)
    assert reason == "Authorization header is not a Bearer credential"


def test_static_headers_require_every_header() -> None:
    authenticator = only({"VAPI_HEADERS": {"X-A": "one", "X-B": ["two", "three"]}})
    assert sign_with(authenticator, b"") == {"X-A": "one", "X-B": "two"}
    assert authenticator.verify(req({"X-A": "one", "X-B": "three"}), NOW) is None
    assert authenticator.verify(req({"X-A": "one"}), NOW) == "missing X-B header"
    reason = authenticator.verify(req({"X-A": "two", "X-B": "two"}), NOW)
    assert reason == "X-A header does not match"


# -- HMAC in detail ---------------------------------------------------------------------------


def test_hmac_known_answer() -> None:
    key = b"whsec-known-answer"
    expected = independent_hmac(key, STAMP.encode() + b"." + BODY)
    authenticator = only({"VAPI_HMAC_SECRET": key.decode()})
    assert sign_with(authenticator, BODY, timestamp=int(STAMP)) == {
        "x-timestamp": STAMP,
        "x-signature": expected,
    }
    headers = {"X-Signature": expected, "X-Timestamp": STAMP}
    assert authenticator.verify(req(headers), NOW) is None
    assert authenticator.verify(req(headers, body=BODY + b" "), NOW) == ("signature does not match")


def test_hmac_hex_signature_accepts_either_case() -> None:
    """Hex digits are case-insensitive; the prefix is literal, base64 is case-sensitive."""
    expected = independent_hmac(FIRST.encode(), STAMP.encode() + b"." + BODY)
    hexed = only({"VAPI_HMAC_SECRET": FIRST, "VAPI_HMAC_SIGNATURE_PREFIX": "sha256="})
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(expected))
    for signature in (expected, expected.upper(), mixed):
        headers = {"x-signature": "sha256=" + signature, "x-timestamp": STAMP}
        assert hexed.verify(req(headers), NOW) is None
    shouting = {"x-signature": "SHA256=" + expected, "x-timestamp": STAMP}
    assert hexed.verify(req(shouting), NOW) == "signature does not match"
    wrong = independent_hmac(SECOND.encode(), STAMP.encode() + b"." + BODY).upper()
    forged = {"x-signature": "sha256=" + wrong, "x-timestamp": STAMP}
    assert hexed.verify(req(forged), NOW) == "signature does not match"

    b64 = only({"VAPI_HMAC_SECRET": FIRST, "VAPI_HMAC_SIGNATURE_ENCODING": "base64"})
    good = sign_with(b64, BODY, timestamp=NOW)
    assert b64.verify(req(good), NOW) is None
    swapped = {**good, "x-signature": good["x-signature"].swapcase()}
    assert b64.verify(req(swapped), NOW) == "signature does not match"


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"VAPI_HMAC_PAYLOAD_FORMAT": "{body}.{timestamp}"},
        {"VAPI_HMAC_INCLUDE_TIMESTAMP": False, "VAPI_HMAC_PAYLOAD_FORMAT": "{timestamp}:{body}"},
    ],
)
def test_a_captured_request_does_not_replay_with_a_fresh_timestamp(config: dict[str, Any]) -> None:
    """Wherever the timestamp is checked it is signed (settings refuse the other case)."""
    authenticator = only({"VAPI_HMAC_SECRET": FIRST, **config})
    captured = sign_with(authenticator, BODY, timestamp=NOW - 3600)
    assert authenticator.verify(req(captured), NOW).startswith("stale")  # type: ignore[union-attr]
    replayed = {**captured, "x-timestamp": STAMP}
    assert authenticator.verify(req(replayed), NOW) == "signature does not match"


def test_a_timestamp_checked_but_not_signed_is_refused() -> None:
    config = {"VAPI_HMAC_SECRET": FIRST, "VAPI_HMAC_PAYLOAD_FORMAT": "{method}.{body}"}
    with pytest.raises(ConfigurationError) as excinfo:
        load_authenticators(config)
    message = str(excinfo.value)
    assert message.startswith("VAPI_HMAC_PAYLOAD_FORMAT has no {timestamp} while ")
    assert "VAPI_HMAC_INCLUDE_TIMESTAMP is True" in message
    # Not signing the timestamp is a choice one can make explicitly (no freshness check).
    config["VAPI_HMAC_INCLUDE_TIMESTAMP"] = False
    assert not only(config).uses_timestamp


def test_needs_url_says_whether_verify_reads_the_url() -> None:
    assert [a.needs_url for a in load_authenticators(ALL_MODES)] == [False] * 4
    assert only(
        {"VAPI_HMAC_SECRET": FIRST, "VAPI_HMAC_PAYLOAD_FORMAT": "{timestamp}{url}{body}"}
    ).needs_url


def test_sign_headers_refuses_an_authenticator_it_cannot_sign() -> None:
    class Custom:
        name = "custom"
        needs_url = False

        def verify(self, request: AuthRequest, now: float) -> str | None:
            return None

    with pytest.raises(TypeError, match="Cannot sign for a Custom: register a signer"):
        sign_headers([Custom()], BODY)


def test_hmac_defaults_from_config() -> None:
    config = {"VAPI_" + key: value for key, value in DEFAULTS.items()}
    assert load_authenticators(config) == ()
    config["VAPI_HMAC_SECRET"] = FIRST
    assert load_authenticators(config) == (HmacAuth((FIRST.encode(),), tolerance=300.0),)
    config["VAPI_HMAC_INCLUDE_TIMESTAMP"] = False
    assert only(config).payload_format == "{body}"


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_hmac_algorithms_and_encodings(algorithm: str, encoding: str) -> None:
    config = {
        "VAPI_HMAC_SECRET": FIRST,
        "VAPI_HMAC_ALGORITHM": algorithm.upper() if algorithm == "sha512" else algorithm,
        "VAPI_HMAC_SIGNATURE_ENCODING": encoding,
    }
    authenticator = only(config)
    digest = hmac.new(FIRST.encode(), STAMP.encode() + b"." + BODY, algorithm).digest()
    expected = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    assert sign_with(authenticator, BODY, timestamp=NOW)["x-signature"] == expected
    assert authenticator.verify(req({"x-signature": expected, "x-timestamp": STAMP}), NOW) is None
    for other in {"sha1", "sha256", "sha512"} - {algorithm}:
        wrong = hmac.new(FIRST.encode(), STAMP.encode() + b"." + BODY, other).digest()
        value = wrong.hex() if encoding == "hex" else base64.b64encode(wrong).decode()
        headers = {"x-signature": value, "x-timestamp": STAMP}
        assert authenticator.verify(req(headers), NOW) == "signature does not match"


def test_hmac_signature_prefix_and_custom_headers() -> None:
    config = {
        "VAPI_HMAC_SECRET": FIRST,
        "VAPI_HMAC_SIGNATURE_PREFIX": "sha256=",
        "VAPI_HMAC_SIGNATURE_HEADER": "X-Hub-Signature-256",
        "VAPI_HMAC_TIMESTAMP_HEADER": "X-Hook-Time",
    }
    authenticator = only(config)
    expected = "sha256=" + independent_hmac(FIRST.encode(), STAMP.encode() + b"." + BODY)
    headers = sign_with(authenticator, BODY, timestamp=NOW)
    assert headers == {"X-Hook-Time": STAMP, "X-Hub-Signature-256": expected}
    assert authenticator.verify(req(headers), NOW) is None
    bare = {**headers, "X-Hub-Signature-256": expected[len("sha256=") :]}
    assert authenticator.verify(req(bare), NOW) == "signature does not match"
    assert authenticator.verify(req({"X-Hook-Time": STAMP}), NOW) == (
        "missing X-Hub-Signature-256 header"
    )
    no_time = {"X-Hub-Signature-256": expected}
    assert authenticator.verify(req(no_time), NOW) == "missing X-Hook-Time header"


def test_hmac_base64_secret() -> None:
    raw_key = b"\x00\xffraw key bytes\x80"
    encoded_key = base64.b64encode(raw_key).decode()
    authenticator = only({"VAPI_HMAC_SECRET": encoded_key, "VAPI_HMAC_SECRET_IS_BASE64": True})
    expected = independent_hmac(raw_key, STAMP.encode() + b"." + BODY)
    assert sign_with(authenticator, BODY, timestamp=NOW)["x-signature"] == expected
    assert authenticator.verify(req({"x-signature": expected, "x-timestamp": STAMP}), NOW) is None
    literal = independent_hmac(encoded_key.encode(), STAMP.encode() + b"." + BODY)
    headers = {"x-signature": literal, "x-timestamp": STAMP}
    assert authenticator.verify(req(headers), NOW) == "signature does not match"


def test_hmac_every_placeholder() -> None:
    config = {
        "VAPI_HMAC_SECRET": FIRST,
        "VAPI_HMAC_PAYLOAD_FORMAT": "v1:{method} {url}|{svix-id}|{timestamp}|{body}",
        "VAPI_HMAC_MESSAGE_ID_HEADER": "svix-id",
    }
    authenticator = only(config)
    url = "https://example.com/vapi/webhook?tenant=a&x={body}"
    message = f"v1:POST {url}|msg_123|{STAMP}|".encode() + BODY
    expected = independent_hmac(FIRST.encode(), message)
    headers = sign_with(authenticator, BODY, url=url, timestamp=NOW, message_id="msg_123")
    assert headers == {"x-timestamp": STAMP, "svix-id": "msg_123", "x-signature": expected}
    assert authenticator.verify(req(headers, url=url, method="POST"), NOW) is None
    failing = [
        req(headers, url=url, method="PUT"),
        req(headers, url=url + "&y=1", method="POST"),
        req({**headers, "svix-id": "msg_124"}, url=url, method="POST"),
    ]
    for bad in failing:
        assert authenticator.verify(bad, NOW) == "signature does not match"
    without_id = {k: v for k, v in headers.items() if k != "svix-id"}
    assert authenticator.verify(req(without_id, url=url), NOW) == "missing svix-id header"


def test_hmac_sign_generates_message_id_and_timestamp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: NOW + 0.75)
    config = {
        "VAPI_HMAC_SECRET": FIRST,
        "VAPI_HMAC_PAYLOAD_FORMAT": "{svix-id}.{timestamp}.{body}",
        "VAPI_HMAC_MESSAGE_ID_HEADER": "webhook-id",
    }
    authenticator = only(config)
    first, second = sign_with(authenticator, BODY), sign_with(authenticator, BODY)
    assert first["x-timestamp"] == STAMP
    assert re.fullmatch(r"msg_[0-9a-f]{24}", first["webhook-id"])
    assert first["webhook-id"] != second["webhook-id"]
    message = f"{first['webhook-id']}.{STAMP}.".encode() + BODY
    assert first["x-signature"] == independent_hmac(FIRST.encode(), message)
    assert authenticator.verify(req(first), NOW) is None


def test_hmac_message_id_header_without_placeholder_is_not_required() -> None:
    config = {"VAPI_HMAC_SECRET": FIRST, "VAPI_HMAC_MESSAGE_ID_HEADER": "svix-id"}
    authenticator = only(config)
    headers = sign_with(authenticator, BODY, timestamp=NOW, message_id="msg_1")
    assert headers["svix-id"] == "msg_1"
    del headers["svix-id"]
    assert authenticator.verify(req(headers), NOW) is None


def test_hmac_body_with_braces_is_not_substituted() -> None:
    body = b'{"a":"{body}","b":"{timestamp}","c":"{url}","d":"{svix-id}"}'
    config = {
        "VAPI_HMAC_SECRET": FIRST,
        "VAPI_HMAC_INCLUDE_TIMESTAMP": False,
        "VAPI_HMAC_PAYLOAD_FORMAT": "{body}|{url}",
    }
    authenticator = only(config)
    url = "https://example.com/?q={body}"
    expected = independent_hmac(FIRST.encode(), body + b"|" + url.encode())
    headers = sign_with(authenticator, body, url=url, timestamp=NOW)
    assert headers["x-signature"] == expected
    assert authenticator.verify(req(headers, body=body, url=url), NOW) is None


def test_hmac_without_timestamp_signs_the_body_only() -> None:
    authenticator = only({"VAPI_HMAC_SECRET": FIRST, "VAPI_HMAC_INCLUDE_TIMESTAMP": False})
    expected = independent_hmac(FIRST.encode(), BODY)
    assert sign_with(authenticator, BODY, timestamp=NOW) == {"x-signature": expected}
    assert authenticator.verify(req({"x-signature": expected}), NOW) is None
    ignored = {"x-signature": expected, "x-timestamp": "garbage"}
    assert authenticator.verify(req(ignored), NOW + 10**6) is None


def test_hmac_without_include_timestamp_but_timestamp_placeholder() -> None:
    config = {
        "VAPI_HMAC_SECRET": FIRST,
        "VAPI_HMAC_INCLUDE_TIMESTAMP": False,
        "VAPI_HMAC_PAYLOAD_FORMAT": "{timestamp}:{body}",
    }
    authenticator = only(config)
    expected = independent_hmac(FIRST.encode(), STAMP.encode() + b":" + BODY)
    headers = sign_with(authenticator, BODY, timestamp=NOW)
    assert headers == {"x-timestamp": STAMP, "x-signature": expected}
    assert authenticator.verify(req(headers), NOW) is None
    assert authenticator.verify(req(headers), NOW + 301) == (
        "stale x-timestamp (outside the 300 s tolerance)"
    )
    assert authenticator.verify(req({"x-signature": expected}), NOW) == (
        "missing x-timestamp header"
    )


STALE = "stale x-timestamp (outside the 300 s tolerance)"
FUTURE = "x-timestamp is in the future (outside the 300 s tolerance)"


@pytest.mark.parametrize(
    ("timestamp", "reason"),
    [
        (NOW, None),
        (NOW - 300, None),
        (NOW + 300, None),
        (NOW - 301, STALE),
        (NOW + 301, FUTURE),
        (NOW - 300.5, STALE),
        (NOW + 299.5, None),
        (NOW * 1000, None),
        ((NOW - 300) * 1000, None),
        ((NOW + 300) * 1000, None),
        ((NOW - 300) * 1000 - 1, STALE),
        ((NOW + 300) * 1000 + 1, FUTURE),
        (10**12, FUTURE),  # exactly 1e12 is still seconds (year 33658)
        (1, STALE),
    ],
)
def test_hmac_timestamp_window(timestamp: float, reason: str | None) -> None:
    authenticator = only({"VAPI_HMAC_SECRET": FIRST})
    headers = sign_with(authenticator, BODY, timestamp=timestamp)
    assert authenticator.verify(req(headers), NOW) == reason


def test_hmac_custom_and_zero_tolerance() -> None:
    authenticator = only({"VAPI_HMAC_SECRET": FIRST, "VAPI_HMAC_TOLERANCE": 10})
    headers = sign_with(authenticator, BODY, timestamp=NOW)
    assert authenticator.verify(req(headers), NOW + 10) is None
    assert authenticator.verify(req(headers), NOW + 11) == (
        "stale x-timestamp (outside the 10 s tolerance)"
    )
    exact = only({"VAPI_HMAC_SECRET": FIRST, "VAPI_HMAC_TOLERANCE": 0})
    assert exact.verify(req(headers), NOW) is None
    assert exact.verify(req(headers), NOW - 0.5) == (
        "x-timestamp is in the future (outside the 0 s tolerance)"
    )


def test_hmac_tolerance_none_disables_freshness_only() -> None:
    authenticator = only({"VAPI_HMAC_SECRET": FIRST, "VAPI_HMAC_TOLERANCE": None})
    old = sign_with(authenticator, BODY, timestamp=1)
    assert authenticator.verify(req(old), NOW) is None
    assert authenticator.verify(req({**old, "x-timestamp": "abc"}), NOW) == (
        "invalid x-timestamp header"
    )


@pytest.mark.parametrize(
    "stamp",
    [
        "",
        "abc",
        "nan",
        "inf",
        "-1",
        "+1",
        "1e9",
        "1_700",
        " 1700",
        "1700.",
        ".5",
        "0x10",
        "\u0661\u0660",
    ],
)
def test_hmac_rejects_non_numeric_timestamp(stamp: str) -> None:
    """Rejected even when correctly signed: nan and inf would defeat the freshness check."""
    authenticator = only({"VAPI_HMAC_SECRET": FIRST, "VAPI_HMAC_TOLERANCE": None})
    message = stamp.encode("utf-8", "surrogatepass") + b"." + BODY
    headers = {"x-timestamp": stamp, "x-signature": independent_hmac(FIRST.encode(), message)}
    assert authenticator.verify(req(headers), NOW) == "invalid x-timestamp header"


def test_hmac_fractional_timestamp() -> None:
    authenticator = only({"VAPI_HMAC_SECRET": FIRST})
    headers = sign_with(authenticator, BODY, timestamp=NOW + 0.5)
    assert headers["x-timestamp"] == STAMP + ".5"
    assert authenticator.verify(req(headers), NOW) is None


@pytest.mark.parametrize("header", ["x-signature", "x-timestamp", "svix-id"])
@pytest.mark.parametrize("value", ["\u2603", "caf\u00e9", "\udc80", "\x00"])
def test_hmac_non_ascii_values_do_not_raise(header: str, value: str) -> None:
    config = {
        "VAPI_HMAC_SECRET": FIRST,
        "VAPI_HMAC_PAYLOAD_FORMAT": "{svix-id}.{timestamp}.{body}",
        "VAPI_HMAC_MESSAGE_ID_HEADER": "svix-id",
    }
    authenticator = only(config)
    headers = {**sign_with(authenticator, BODY, timestamp=NOW), header: value}
    assert_safe(authenticator.verify(req(headers, url="https://\u00e9.example/"), NOW), FIRST)


# -- configuration ----------------------------------------------------------------------------


def test_nothing_configured() -> None:
    assert load_authenticators({}) == ()
    assert load_authenticators({"VAPI_HEADERS": {}, "VAPI_SECRET": None}) == ()


def test_options_of_an_unconfigured_mode_are_checked_too() -> None:
    """Every key is checked whether its mode is configured or not: a typo fails early."""
    with pytest.raises(ConfigurationError, match=r"^VAPI_HMAC_ALGORITHM must be one of"):
        load_authenticators({"VAPI_HMAC_ALGORITHM": "md5"})
    with pytest.raises(ConfigurationError, match=r"^VAPI_BEARER_HEADER must be a non-empty"):
        load_authenticators({"VAPI_SECRET": FIRST, "VAPI_BEARER_HEADER": ""})


def test_every_wrong_key_is_named_at_once() -> None:
    config = {"VAPI_SECRET": "", "VAPI_HMAC_ALGORITHM": "md5", "VAPI_HMAC_TOLERANCE": -1}
    with pytest.raises(ConfigurationError) as excinfo:
        load_authenticators(config)
    assert str(excinfo.value) == (
        "VAPI_SECRET must not be an empty string or an empty list. "
        "VAPI_HMAC_ALGORITHM must be one of sha256, sha512, sha1. "
        "VAPI_HMAC_TOLERANCE must be a finite, non-negative number of seconds."
    )


def test_prefix_selects_keys() -> None:
    config = {"VAPI_SECRET": FIRST, "VAPI_SALES_SECRET": SECOND}
    assert load_authenticators(config) == (SecretAuth((FIRST.encode(),)),)
    assert load_authenticators(config, "VAPI_SALES_") == (SecretAuth((SECOND.encode(),)),)
    assert load_authenticators({"VAPI_SECRET": FIRST}, "VAPI_SALES_") == ()
    bad = {"VAPI_SALES_HMAC_SECRET": TOPSECRET, "VAPI_SALES_HMAC_ALGORITHM": "md5"}
    with pytest.raises(ConfigurationError, match="VAPI_SALES_HMAC_ALGORITHM"):
        load_authenticators(bad, "VAPI_SALES_")


HMAC = {"HMAC_SECRET": TOPSECRET}
CONFIG_ERRORS: list[tuple[dict[str, Any], str]] = [
    # wrong types
    ({"SECRET": 12345}, "SECRET"),
    ({"SECRET": [TOPSECRET.encode()]}, "SECRET"),
    ({"SECRET": {TOPSECRET: 1}}, "SECRET"),
    ({"BEARER_TOKEN": [TOPSECRET, 1]}, "BEARER_TOKEN"),
    ({"BEARER_TOKEN": TOPSECRET, "BEARER_HEADER": 5}, "BEARER_HEADER"),
    ({"BEARER_TOKEN": TOPSECRET, "BEARER_PREFIX_ENABLED": "no"}, "BEARER_PREFIX_ENABLED"),
    ({"HMAC_SECRET": 3.5}, "HMAC_SECRET"),
    ({**HMAC, "HMAC_ALGORITHM": 256}, "HMAC_ALGORITHM"),
    ({**HMAC, "HMAC_SIGNATURE_HEADER": None}, "HMAC_SIGNATURE_HEADER"),
    ({**HMAC, "HMAC_TIMESTAMP_HEADER": b"x-timestamp"}, "HMAC_TIMESTAMP_HEADER"),
    ({**HMAC, "HMAC_INCLUDE_TIMESTAMP": "false"}, "HMAC_INCLUDE_TIMESTAMP"),
    ({**HMAC, "HMAC_PAYLOAD_FORMAT": b"{body}"}, "HMAC_PAYLOAD_FORMAT"),
    ({**HMAC, "HMAC_MESSAGE_ID_HEADER": 1}, "HMAC_MESSAGE_ID_HEADER"),
    ({**HMAC, "HMAC_SIGNATURE_PREFIX": None}, "HMAC_SIGNATURE_PREFIX"),
    ({**HMAC, "HMAC_SIGNATURE_ENCODING": None}, "HMAC_SIGNATURE_ENCODING"),
    ({**HMAC, "HMAC_SECRET_IS_BASE64": 1}, "HMAC_SECRET_IS_BASE64"),
    ({**HMAC, "HMAC_TOLERANCE": "300"}, "HMAC_TOLERANCE"),
    ({**HMAC, "HMAC_TOLERANCE": True}, "HMAC_TOLERANCE"),
    ({"HEADERS": [("X-Api-Key", TOPSECRET)]}, "HEADERS"),
    ({"HEADERS": {"X-Api-Key": 7}}, "HEADERS['X-Api-Key']"),
    ({"HEADERS": {"X-Api-Key": TOPSECRET, 3: TOPSECRET}}, "HEADERS"),
    ({"HEADERS": {"X-Api-Key": None}}, "HEADERS['X-Api-Key']"),
    # empty credentials
    ({"SECRET": ""}, "SECRET"),
    ({"SECRET": []}, "SECRET"),
    ({"SECRET": [TOPSECRET, ""]}, "SECRET"),
    ({"BEARER_TOKEN": ""}, "BEARER_TOKEN"),
    ({"BEARER_TOKEN": ()}, "BEARER_TOKEN"),
    ({"HMAC_SECRET": ""}, "HMAC_SECRET"),
    ({"HMAC_SECRET": []}, "HMAC_SECRET"),
    ({"HEADERS": {"X-Api-Key": ""}}, "HEADERS['X-Api-Key']"),
    ({"HEADERS": {"X-Api-Key": []}}, "HEADERS['X-Api-Key']"),
    # unknown algorithm and encoding
    ({**HMAC, "HMAC_ALGORITHM": "md5"}, "HMAC_ALGORITHM"),
    ({**HMAC, "HMAC_ALGORITHM": "sha-256"}, "HMAC_ALGORITHM"),
    ({**HMAC, "HMAC_SIGNATURE_ENCODING": "base32"}, "HMAC_SIGNATURE_ENCODING"),
    # invalid base64
    ({**HMAC, "HMAC_SECRET_IS_BASE64": True}, "HMAC_SECRET"),
    ({"HMAC_SECRET": ["YWJj", TOPSECRET + "!"], "HMAC_SECRET_IS_BASE64": True}, "HMAC_SECRET"),
    ({"HMAC_SECRET": "====", "HMAC_SECRET_IS_BASE64": True}, "HMAC_SECRET"),
    ({"HMAC_SECRET": "=", "HMAC_SECRET_IS_BASE64": True}, "HMAC_SECRET"),  # b"" on 3.9
    ({"HMAC_SECRET": "YWJj\u00e9", "HMAC_SECRET_IS_BASE64": True}, "HMAC_SECRET"),
    # payload format
    ({**HMAC, "HMAC_PAYLOAD_FORMAT": "{ts}.{body}"}, "HMAC_PAYLOAD_FORMAT"),
    ({**HMAC, "HMAC_PAYLOAD_FORMAT": "{timestamp}.{Body}"}, "HMAC_PAYLOAD_FORMAT"),
    ({**HMAC, "HMAC_PAYLOAD_FORMAT": "{timestamp}"}, "HMAC_PAYLOAD_FORMAT"),
    ({**HMAC, "HMAC_PAYLOAD_FORMAT": ""}, "HMAC_PAYLOAD_FORMAT"),
    ({**HMAC, "HMAC_PAYLOAD_FORMAT": "{svix-id}.{timestamp}.{body}"}, "HMAC_PAYLOAD_FORMAT"),
    # a timestamp checked for freshness must be signed
    ({**HMAC, "HMAC_PAYLOAD_FORMAT": "{body}"}, "HMAC_PAYLOAD_FORMAT"),
    ({**HMAC, "HMAC_PAYLOAD_FORMAT": "{method} {url}.{body}"}, "HMAC_PAYLOAD_FORMAT"),
    # tolerance
    ({**HMAC, "HMAC_TOLERANCE": -1}, "HMAC_TOLERANCE"),
    ({**HMAC, "HMAC_TOLERANCE": float("nan")}, "HMAC_TOLERANCE"),
    ({**HMAC, "HMAC_TOLERANCE": float("inf")}, "HMAC_TOLERANCE"),
    # header names
    ({"BEARER_TOKEN": TOPSECRET, "BEARER_HEADER": ""}, "BEARER_HEADER"),
    ({"BEARER_TOKEN": TOPSECRET, "BEARER_HEADER": "X Token"}, "BEARER_HEADER"),
    ({**HMAC, "HMAC_SIGNATURE_HEADER": ""}, "HMAC_SIGNATURE_HEADER"),
    ({**HMAC, "HMAC_TIMESTAMP_HEADER": ""}, "HMAC_TIMESTAMP_HEADER"),
    ({**HMAC, "HMAC_MESSAGE_ID_HEADER": ""}, "HMAC_MESSAGE_ID_HEADER"),
    ({**HMAC, "HMAC_MESSAGE_ID_HEADER": "svix:id"}, "HMAC_MESSAGE_ID_HEADER"),
    ({"HEADERS": {"": TOPSECRET}}, "HEADERS"),
    ({"HEADERS": {"X-Api-Key:": TOPSECRET}}, "HEADERS"),
]


@pytest.mark.parametrize(("settings", "key"), CONFIG_ERRORS)
def test_configuration_errors(settings: dict[str, Any], key: str) -> None:
    config = {"VAPI_" + name: value for name, value in settings.items()}
    with pytest.raises(ConfigurationError) as excinfo:
        load_authenticators(config)
    message = str(excinfo.value)
    assert message.startswith(f"VAPI_{key} ")
    # Every key the message mentions carries the prefix.
    assert not set(re.findall(r"[A-Z][A-Z0-9_]+", re.sub(r"VAPI_\w+", "", message))) & set(
        DEFAULTS
    ), message
    assert TOPSECRET not in message
    assert TOPSECRET not in repr(excinfo.value.__cause__)
    assert excinfo.value.__suppress_context__ or excinfo.value.__context__ is None


#: The documented auth keys (README configuration table), without the prefix.
AUTH_KEYS = {
    "SECRET",
    "BEARER_TOKEN",
    "BEARER_HEADER",
    "BEARER_PREFIX_ENABLED",
    "HMAC_SECRET",
    "HMAC_ALGORITHM",
    "HMAC_SIGNATURE_HEADER",
    "HMAC_TIMESTAMP_HEADER",
    "HMAC_INCLUDE_TIMESTAMP",
    "HMAC_PAYLOAD_FORMAT",
    "HMAC_MESSAGE_ID_HEADER",
    "HMAC_SIGNATURE_PREFIX",
    "HMAC_SIGNATURE_ENCODING",
    "HMAC_SECRET_IS_BASE64",
    "HMAC_TOLERANCE",
    "HEADERS",
}


def test_every_auth_key_is_exercised_by_the_configuration_tests() -> None:
    used = {name for settings, _ in CONFIG_ERRORS for name in settings}
    assert used == AUTH_KEYS
    assert set(DEFAULTS) >= AUTH_KEYS
