"""The ``flask_vapi`` logger: bounded values, and capabilities redacted from every line."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask

#: Every line flask_vapi logs goes to this logger.
logger = logging.getLogger("flask_vapi")

#: The longest value (tool name, field error, exception text) a log line quotes in full.
MAX_VALUE = 200

# Vapi's Live Call Control and listen URLs are capabilities: whoever reads one can steer or
# hear the call. They end in /control or /listen (protocol notes, section 11).
_CAPABILITY_URL = re.compile(r"(?:https?|wss?)://[^\s\"'<>]+?/(?:control|listen)\b[^\s\"'<>]*")
_REDACTED_URL = "<redacted capability URL>"
_REDACTED = "<redacted>"

_secrets: set[str] = set()


def short(value: Any, limit: int = MAX_VALUE) -> str:
    """``str(value)`` cut to ``limit`` characters, saying how much was cut."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def quoted(value: Any, limit: int = MAX_VALUE) -> str:
    """``repr(value)`` of a string, cut like :func:`short`."""
    return short(repr(value), limit + 2)


def redact(text: str) -> str:
    """``text`` without control/listen URLs and without any registered secret."""
    if "://" in text:
        text = _CAPABILITY_URL.sub(_REDACTED_URL, text)
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, _REDACTED)
    return text


# Keys whose string values are credentials wherever they appear in a body (normalized:
# lower case, without "-" and "_"): assistant server headers, credentials, webhook secrets.
_CREDENTIAL_KEY = re.compile(
    r"secret|token|password|passwd|apikey|authorization|signature|credential|cookie|privatekey"
)
# URL-valued keys that are capabilities whatever the URL looks like.
_CAPABILITY_KEYS = frozenset(("controlurl", "listenurl"))
#: Strings up to this long that hold JSON are redacted as JSON.
_JSON_IN_TEXT = 1 << 20
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")


def redact_json(value: Any, _hidden: bool = False) -> Any:
    """A copy of a JSON value with credentials, capability URLs and secrets redacted.

    Strings under a credential-like key (``secret``, ``token``, ``authorization``...,
    in any case or spelling) and under ``controlUrl``/``listenUrl`` are replaced whole;
    every other string goes through :func:`redact`, and bearer/basic credentials in
    text are cut.  Numbers stay (``promptTokens`` is a count, not a token).
    """
    if isinstance(value, str):
        if _hidden:
            return _REDACTED
        if value[:1] in ("{", "[") and len(value) <= _JSON_IN_TEXT:
            inner = _redact_json_text(value)
            if inner is not None:
                return inner
        text = redact(value)
        return _BEARER.sub(r"\1 " + _REDACTED, text) if " " in text else text
    if isinstance(value, dict):
        copied = {}
        for key, item in value.items():
            name = str(key).lower().replace("-", "").replace("_", "")
            if name in _CAPABILITY_KEYS and isinstance(item, str):
                copied[key] = _REDACTED_URL
            else:
                copied[key] = redact_json(item, _hidden or bool(_CREDENTIAL_KEY.search(name)))
        return copied
    if isinstance(value, list):
        return [redact_json(item, _hidden) for item in value]
    return value


# The same rules on a raw JSON body, for the event log: C-speed passes over the bytes, and
# a look at each place a credential-like word occurs.
_WORDS = (
    b"secret",
    b"token",
    b"password",
    b"passwd",
    b"apikey",
    b"api_key",
    b"api-key",
    b"authorization",
    b"signature",
    b"credential",
    b"cookie",
    b"privatekey",
    b"private_key",
    b"private-key",
    b"controlurl",
    b"listenurl",
    b"control_url",
    b"listen_url",
)
_SPACE = b" \t\r\n"
_CAPABILITY_URL_BYTES = re.compile(_CAPABILITY_URL.pattern.encode())
_BEARER_BYTES = re.compile(_BEARER.pattern.encode())
_STRING_END = re.compile(rb'(?:[^"\\]|\\.)*"')


class _Walk(Exception):
    """The body holds what only :func:`redact_json` on the parsed value can redact."""


def redact_body(body: bytes) -> bytes | None:
    """A raw JSON body with :func:`redact_json`'s rules applied to its text, or ``None``
    when it holds what only :func:`redact_json` on the parsed body can redact: a
    credential-like key holding an object or a list, one inside JSON text (escaped
    quotes), or ``\\u`` escapes (a secret could hide in them)."""
    if b"\\u" in body:
        return None
    try:
        values = _credential_values(body, body.lower())
    except _Walk:
        return None
    lower = body.lower()
    if values:
        parts, at = [], 0
        for begin, end, replacement in values:
            parts += [body[at:begin], replacement]
            at = end
        body = b"".join([*parts, body[at:]])
        lower = body.lower()
    if b"/control" in lower or b"/listen" in lower:
        body = _CAPABILITY_URL_BYTES.sub(_REDACTED_URL.encode(), body)
    for secret in _secrets:
        raw = secret.encode()
        if raw in body:
            body = body.replace(raw, _REDACTED.encode())
    if b"bearer" in lower or b"basic" in lower:
        body = _BEARER_BYTES.sub(rb"\1 " + _REDACTED.encode(), body)
    return body


def _credential_values(body: bytes, lower: bytes) -> list[tuple[int, int, bytes]]:
    """``(start, end, replacement)`` of each string value under a credential-like key."""
    found: dict[int, tuple[int, int, bytes]] = {}
    for word in _WORDS:
        at = lower.find(word)
        while at >= 0:
            _look(body, at, word, found)
            at = lower.find(word, at + len(word))
    return [found[start] for start in sorted(found)]


def _look(body: bytes, at: int, word: bytes, found: dict[int, tuple[int, int, bytes]]) -> None:
    opening = body.rfind(b'"', 0, at)
    closing = body.find(b'"', at)
    if opening < 0 or closing < 0:
        return
    if body[opening - 1 : opening] == b"\\" or body[closing - 1 : closing] == b"\\":
        raise _Walk  # inside JSON text, or a key with escaped quotes
    colon = closing + 1
    while colon < len(body) and body[colon] in _SPACE:
        colon += 1
    if body[colon : colon + 1] != b":":
        return  # the word is in a value, not a key
    value = colon + 1
    while value < len(body) and body[value] in _SPACE:
        value += 1
    first = body[value : value + 1]
    if first in (b"{", b"["):
        raise _Walk
    if first != b'"':
        return  # a number, true, false or null: kept (promptTokens is a count)
    end = _STRING_END.match(body, value + 1)
    if end is None:
        raise _Walk
    capability = word.startswith((b"control", b"listen"))
    text = _REDACTED_URL if capability else _REDACTED
    found[value] = (value, end.end(), b'"' + text.encode() + b'"')


def _redact_json_text(text: str) -> str | None:
    """JSON inside a string (tool arguments and results are JSON text), redacted; or
    ``None`` when it is not JSON."""
    from . import jsonio

    try:
        inner = jsonio.loads(text.encode("utf-8", "surrogatepass"))
    except jsonio.DecodeError:  # invalid UTF-8 and too deep nesting included
        return None
    if not isinstance(inner, (dict, list)):
        return None
    redacted = redact_json(inner)
    return text if redacted == inner else jsonio.dumps(redacted).decode()


def add_secrets(values: Any) -> None:
    """Never log these strings (the configured credentials; called at registration)."""
    for value in values:
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        if len(text) >= 4:  # shorter ones would redact ordinary words
            _secrets.add(text)


def wants_traceback(app: Flask) -> bool:
    """Log tracebacks when debugging: ``app.debug``, or the logger at DEBUG."""
    return app.debug or logger.isEnabledFor(logging.DEBUG)


class _RedactingFilter(logging.Filter):
    """Applies :func:`redact` to the message and traceback of every record of the logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


logger.addFilter(_RedactingFilter())
