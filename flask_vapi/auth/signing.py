"""The one signing path: the headers Vapi would send, made from the authenticators that verify."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable
from typing import NamedTuple, Optional

from .verify import (
    SECRET_HEADER,
    Authenticator,
    BearerAuth,
    HeadersAuth,
    HmacAuth,
    SecretAuth,
    seconds,
    wire,
)


class SignedRequest(NamedTuple):
    """What a signer may sign: the exact body, and the request's method, URL, time and id."""

    body: bytes
    method: str
    url: str
    #: Unix time as sent in a timestamp header (``"1700000000"``).
    timestamp: str
    message_id: str


def sign_headers(
    authenticators: Iterable[Authenticator],
    body: bytes,
    *,
    method: str = "POST",
    url: str = "",
    timestamp: Optional[float] = None,
    message_id: Optional[str] = None,
) -> dict[str, str]:
    """The headers that pass every one of ``authenticators`` for ``body``, merged.

    Each mode signs with its first credential.  ``method`` and ``url`` matter only to an
    HMAC payload format with ``{method}`` or ``{url}``; ``timestamp`` (Unix seconds,
    default now) and ``message_id`` (default random) feed the HMAC headers.
    """
    request = SignedRequest(
        bytes(body),
        method,
        url,
        seconds(int(time.time()) if timestamp is None else timestamp),
        "msg_" + os.urandom(12).hex() if message_id is None else message_id,
    )
    headers: dict[str, str] = {}
    for authenticator in authenticators:
        headers.update(headers_for(authenticator, request))
    return headers


@functools.singledispatch
def headers_for(authenticator: Authenticator, request: SignedRequest) -> dict[str, str]:
    """The headers with which ``request`` passes ``authenticator``, by its type.

    A custom authenticator can be signed too: ``@headers_for.register`` a function for
    its class.
    """
    raise TypeError(
        f"Cannot sign for a {type(authenticator).__name__}: register a signer with "
        "flask_vapi.auth.headers_for.register."
    )


# Header values are text as WSGI decodes it (latin-1): the inverse of verify.wire.
def _text(value: bytes) -> str:
    return value.decode("latin-1")


@headers_for.register
def _secret(authenticator: SecretAuth, request: SignedRequest) -> dict[str, str]:
    return {SECRET_HEADER: _text(authenticator.secrets[0])}


@headers_for.register
def _bearer(authenticator: BearerAuth, request: SignedRequest) -> dict[str, str]:
    token = _text(authenticator.tokens[0])
    return {authenticator.header: f"Bearer {token}" if authenticator.prefix_enabled else token}


@headers_for.register
def _static(authenticator: HeadersAuth, request: SignedRequest) -> dict[str, str]:
    return {name: _text(allowed[0]) for name, allowed in authenticator.required}


@headers_for.register
def _hmac(authenticator: HmacAuth, request: SignedRequest) -> dict[str, str]:
    headers: dict[str, str] = {}
    stamp = ""
    if authenticator.uses_timestamp:
        stamp = request.timestamp
        headers[authenticator.timestamp_header] = stamp
    if authenticator.message_id_header is not None:
        headers[authenticator.message_id_header] = request.message_id
    signature = authenticator.signature(
        authenticator.secrets[0],
        request.body,
        request.method,
        request.url,
        stamp,
        wire(request.message_id),
    )
    headers[authenticator.signature_header] = _text(signature)
    return headers
