"""Webhook authentication: verification of every mode (``verify``) and its inverse (``signing``)."""

from .signing import SignedRequest, headers_for, sign_headers
from .verify import (
    ALGORITHMS,
    ENCODINGS,
    PLACEHOLDERS,
    SECRET_HEADER,
    Authenticator,
    AuthRequest,
    BearerAuth,
    HeaderLookup,
    HeadersAuth,
    HmacAuth,
    SecretAuth,
    verify_all,
)

__all__ = [
    "ALGORITHMS",
    "ENCODINGS",
    "PLACEHOLDERS",
    "SECRET_HEADER",
    "AuthRequest",
    "Authenticator",
    "BearerAuth",
    "HeaderLookup",
    "HeadersAuth",
    "HmacAuth",
    "SecretAuth",
    "SignedRequest",
    "headers_for",
    "sign_headers",
    "verify_all",
]
