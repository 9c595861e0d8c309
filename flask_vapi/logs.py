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
    return jsonio.dumps(redact_json(inner)).decode()


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
