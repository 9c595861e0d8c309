"""Who may open the call inspector: on while debugging, or with ``VAPI_INSPECTOR_TOKEN``."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask, Request

#: The cookie the login form sets (a digest of the token, never the token).
COOKIE = "vapi_inspector"
# The key of the replay forms' CSRF field while debugging without a token.
_PROCESS_KEY = secrets.token_bytes(32)


def enabled(app: Flask, token: str | None) -> bool:
    """Whether the inspector exists at all: ``app.debug``, or a token configured."""
    return token is not None or app.debug


def cookie_value(token: str) -> str:
    """What the session cookie holds for ``token``: an HMAC of it, not the token."""
    return hmac.new(token.encode(), b"flask-vapi inspector", hashlib.sha256).hexdigest()


def token_matches(given: str, token: str) -> bool:
    """``given == token`` in constant time."""
    return hmac.compare_digest(given.encode(), token.encode())


def authorized(request: Request, token: str | None) -> bool:
    """Whether ``request`` may see the inspector: anyone while debugging without a token,
    else ``Authorization: Bearer <token>`` or the login form's cookie."""
    if token is None:
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() == "bearer" and token_matches(given.strip(), token):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return hmac.compare_digest(cookie.encode(), cookie_value(token).encode())


def csrf_token(token: str | None, action: str) -> str:
    """The hidden field of a form that changes something (a replay runs handlers)."""
    key = token.encode() if token is not None else _PROCESS_KEY
    return hmac.new(key, b"csrf " + action.encode(), hashlib.sha256).hexdigest()


def csrf_matches(given: str, token: str | None, action: str) -> bool:
    """Whether a form's field is :func:`csrf_token` of ``action`` (constant time)."""
    return hmac.compare_digest(given.encode(), csrf_token(token, action).encode())
