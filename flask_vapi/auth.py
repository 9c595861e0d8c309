"""Framework-neutral verification (and signing) of Vapi webhook credentials on the raw request."""

from __future__ import annotations

import base64
import binascii
import hmac
import math
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple, Optional, Protocol

from .errors import ConfigurationError

#: Un-prefixed configuration keys and their defaults (a ``None`` credential: mode not configured).
DEFAULTS: dict[str, Any] = {
    "SECRET": None,
    "BEARER_TOKEN": None,
    "BEARER_HEADER": "Authorization",
    "BEARER_PREFIX_ENABLED": True,
    "HMAC_SECRET": None,
    "HMAC_ALGORITHM": "sha256",
    "HMAC_SIGNATURE_HEADER": "x-signature",
    "HMAC_TIMESTAMP_HEADER": "x-timestamp",
    "HMAC_INCLUDE_TIMESTAMP": True,
    "HMAC_PAYLOAD_FORMAT": None,
    "HMAC_MESSAGE_ID_HEADER": None,
    "HMAC_SIGNATURE_PREFIX": "",
    "HMAC_SIGNATURE_ENCODING": "hex",
    "HMAC_SECRET_IS_BASE64": False,
    "HMAC_TOLERANCE": 300,
    "HEADERS": None,
}
AUTH_KEYS: tuple[str, ...] = tuple(DEFAULTS)

SECRET_HEADER = "X-Vapi-Secret"
ALGORITHMS = ("sha256", "sha512", "sha1")
ENCODINGS = ("hex", "base64")
PLACEHOLDERS = ("{timestamp}", "{body}", "{method}", "{url}", "{svix-id}")

_PLACEHOLDER = re.compile(r"(\{timestamp\}|\{body\}|\{method\}|\{url\}|\{svix-id\})")
_ANY_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_TIMESTAMP = re.compile(r"[0-9]+(?:\.[0-9]+)?")  # no sign, exponent, nan or inf
_MILLISECONDS_ABOVE = 1e12


class HeaderLookup(Protocol):
    """What is read from request headers: any ``Mapping[str, str]`` or werkzeug ``Headers``."""

    def get(self, key: str, /) -> str | None: ...

    def keys(self) -> Iterable[str]: ...

    def __getitem__(self, key: str, /) -> str: ...


class AuthRequest(NamedTuple):
    """What verification needs from an HTTP request, taken before any parsing."""

    headers: HeaderLookup
    body: bytes
    method: str = "POST"
    url: str = ""


class Authenticator(Protocol):
    """One authentication mode; ``verify`` returns ``None`` on success, else a safe reason."""

    @property
    def name(self) -> str: ...

    def verify(self, request: AuthRequest, now: float) -> str | None: ...

    def sign(
        self,
        body: bytes,
        *,
        method: str = "POST",
        url: str = "",
        timestamp: float | None = None,
        message_id: str | None = None,
    ) -> dict[str, str]: ...


def _header(headers: HeaderLookup, name: str) -> str | None:
    """``headers[name]``, case-insensitively (werkzeug's ``Headers`` is; a plain dict is not)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    # .keys(): iterating werkzeug Headers yields (name, value) pairs, not names.
    for key in headers.keys():  # noqa: SIM118
        if key.lower() == wanted:
            return headers[key]
    return None


def _wire(value: str) -> bytes:
    """A header value's bytes as sent: WSGI decodes them as latin-1 (``sign`` does the inverse).

    Beyond latin-1 (only possible outside WSGI) fall back to UTF-8; lone surrogates become
    bytes that no configured (valid UTF-8) credential contains, so they simply do not match.
    """
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


def _matches_any(received: bytes, expected: Sequence[bytes]) -> bool:
    """Constant-time comparison with every candidate; which one matched is not revealed."""
    matched = False
    for candidate in expected:
        matched |= hmac.compare_digest(received, candidate)
    return matched


def _check_header(headers: HeaderLookup, name: str, allowed: Sequence[bytes]) -> str | None:
    value = _header(headers, name)
    if value is None:
        return f"missing {name} header"
    if not _matches_any(_wire(value), allowed):
        return f"{name} header does not match"
    return None


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


class _StaticSigner:
    """``sign()`` for the modes whose headers do not depend on the request."""

    def _headers(self) -> dict[str, str]:
        raise NotImplementedError

    def sign(
        self,
        body: bytes,
        *,
        method: str = "POST",
        url: str = "",
        timestamp: float | None = None,
        message_id: str | None = None,
    ) -> dict[str, str]:
        return self._headers()


@dataclass(frozen=True)
class SecretAuth(_StaticSigner):
    """Legacy shared secret, sent verbatim in ``X-Vapi-Secret``."""

    name: ClassVar[str] = "secret"
    secrets: tuple[bytes, ...] = field(repr=False)

    def verify(self, request: AuthRequest, now: float) -> str | None:
        return _check_header(request.headers, SECRET_HEADER, self.secrets)

    def _headers(self) -> dict[str, str]:
        return {SECRET_HEADER: self.secrets[0].decode("latin-1")}


@dataclass(frozen=True)
class BearerAuth(_StaticSigner):
    """Bearer credential plan: ``<header>: Bearer <token>``, or the bare token without prefix."""

    name: ClassVar[str] = "bearer"
    tokens: tuple[bytes, ...] = field(repr=False)
    header: str = "Authorization"
    prefix_enabled: bool = True

    def verify(self, request: AuthRequest, now: float) -> str | None:
        value = _header(request.headers, self.header)
        if value is None:
            return f"missing {self.header} header"
        received = _wire(value)
        if self.prefix_enabled:
            if received[:7].lower() != b"bearer ":
                return f"{self.header} header is not a Bearer credential"
            received = received[7:]
        if not _matches_any(received, self.tokens):
            return f"{self.header} header does not match"
        return None

    def _headers(self) -> dict[str, str]:
        token = self.tokens[0].decode("latin-1")
        return {self.header: f"Bearer {token}" if self.prefix_enabled else token}


@dataclass(frozen=True, repr=False)
class HeadersAuth(_StaticSigner):
    """Static ``server.headers``: every named header must equal one of its allowed values."""

    name: ClassVar[str] = "headers"
    required: tuple[tuple[str, tuple[bytes, ...]], ...]

    def __repr__(self) -> str:
        return f"HeadersAuth(headers={[header for header, _ in self.required]!r})"

    def verify(self, request: AuthRequest, now: float) -> str | None:
        for header, allowed in self.required:
            problem = _check_header(request.headers, header, allowed)
            if problem is not None:
                return problem
        return None

    def _headers(self) -> dict[str, str]:
        return {header: allowed[0].decode("latin-1") for header, allowed in self.required}


@dataclass(frozen=True)
class HmacAuth:
    """HMAC credential plan: a signature over a templated payload, optionally time-stamped.

    Fields are assumed valid; ``load_authenticators`` checks them.
    """

    name: ClassVar[str] = "hmac"
    secrets: tuple[bytes, ...] = field(repr=False)
    algorithm: str = "sha256"
    signature_header: str = "x-signature"
    timestamp_header: str = "x-timestamp"
    include_timestamp: bool = True
    payload_format: str = "{timestamp}.{body}"
    message_id_header: Optional[str] = None
    signature_prefix: str = ""
    signature_encoding: str = "hex"
    tolerance: Optional[float] = 300

    @property
    def _uses_timestamp(self) -> bool:
        return self.include_timestamp or "{timestamp}" in self.payload_format

    def _signature(
        self, secret: bytes, body: bytes, method: str, url: str, stamp: str, message_id: bytes
    ) -> bytes:
        """``prefix + encode(HMAC(secret, payload))``: the one path for ``verify`` and ``sign``."""
        values = {
            "{body}": body,
            "{timestamp}": stamp.encode("ascii"),  # checked: digits and at most one dot
            "{method}": method.encode("utf-8", "surrogatepass"),
            "{url}": url.encode("utf-8", "surrogatepass"),
            "{svix-id}": message_id,
        }
        # One pass over the template: substituted values (the body!) are never rescanned.
        parts = _PLACEHOLDER.split(self.payload_format)  # literal, placeholder, literal, ...
        payload = b"".join(
            values[part] if index % 2 else part.encode("utf-8", "surrogatepass")
            for index, part in enumerate(parts)
        )
        digest = hmac.new(secret, payload, self.algorithm).digest()
        if self.signature_encoding == "base64":
            encoded = base64.b64encode(digest)
        else:
            encoded = digest.hex().encode("ascii")
        return self.signature_prefix.encode("utf-8", "surrogatepass") + encoded

    def _timestamp_problem(self, stamp: str, now: float) -> str | None:
        if not _TIMESTAMP.fullmatch(stamp):
            return f"invalid {self.timestamp_header} header"
        if self.tolerance is None:
            return None
        seconds = float(stamp)
        if seconds > _MILLISECONDS_ABOVE:
            seconds /= 1000
        window = f"outside the {_seconds(self.tolerance)} s tolerance"
        if now - seconds > self.tolerance:
            return f"stale {self.timestamp_header} ({window})"
        if seconds - now > self.tolerance:
            return f"{self.timestamp_header} is in the future ({window})"
        return None

    def verify(self, request: AuthRequest, now: float) -> str | None:
        signature = _header(request.headers, self.signature_header)
        if signature is None:
            return f"missing {self.signature_header} header"
        stamp = ""
        if self._uses_timestamp:
            received_stamp = _header(request.headers, self.timestamp_header)
            if received_stamp is None:
                return f"missing {self.timestamp_header} header"
            problem = self._timestamp_problem(received_stamp, now)
            if problem is not None:
                return problem
            stamp = received_stamp
        message_id = ""
        if self.message_id_header is not None and "{svix-id}" in self.payload_format:
            received_id = _header(request.headers, self.message_id_header)
            if received_id is None:
                return f"missing {self.message_id_header} header"
            message_id = received_id
        expected = [
            self._signature(
                secret, request.body, request.method, request.url, stamp, _wire(message_id)
            )
            for secret in self.secrets
        ]
        if not _matches_any(_wire(signature), expected):
            return "signature does not match"
        return None

    def sign(
        self,
        body: bytes,
        *,
        method: str = "POST",
        url: str = "",
        timestamp: float | None = None,
        message_id: str | None = None,
    ) -> dict[str, str]:
        stamp = _seconds(int(time.time()) if timestamp is None else timestamp)
        if message_id is None:
            message_id = "msg_" + os.urandom(12).hex()
        headers: dict[str, str] = {}
        if self._uses_timestamp:
            headers[self.timestamp_header] = stamp
        else:
            stamp = ""
        if self.message_id_header is not None:
            headers[self.message_id_header] = message_id
        signature = self._signature(self.secrets[0], body, method, url, stamp, _wire(message_id))
        headers[self.signature_header] = signature.decode("latin-1")
        return headers


def verify_all(
    authenticators: Sequence[Authenticator], request: AuthRequest, now: float
) -> str | None:
    """Every configured mode must pass: the first failure's reason, else ``None``."""
    for authenticator in authenticators:
        problem = authenticator.verify(request, now)
        if problem is not None:
            return problem
    return None


# -- configuration ----------------------------------------------------------------------------


class _Config:
    """Typed reads of one prefix's keys; every error names the key, never its value."""

    def __init__(self, config: Mapping[str, Any], prefix: str) -> None:
        self.config = config
        self.prefix = prefix

    def fail(self, key: str, problem: str) -> ConfigurationError:
        return ConfigurationError(f"{self.prefix}{key} {problem}.")

    def get(self, key: str, kinds: tuple[type, ...], what: str) -> Any:
        value = self.config.get(self.prefix + key, DEFAULTS[key])
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.fail(key, f"must be {what}, not {type(value).__name__}")
        return value

    def header_name(self, key: str, optional: bool = False) -> Any:
        value = self.get(key, (str, type(None)) if optional else (str,), "a string")
        if value is not None and not _HEADER_NAME.fullmatch(value):
            raise self.fail(key, "must be a non-empty HTTP header name")
        return value

    def credentials(self, key: str, value: Any) -> tuple[bytes, ...]:
        """One string or a non-empty list of non-empty strings, UTF-8 encoded."""
        items = (value,) if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
            raise self.fail(key, "must be a string or a list of strings")
        if not items or not all(items):
            raise self.fail(key, "must not be an empty string or an empty list")
        return tuple(item.encode("utf-8", "surrogatepass") for item in items)


def _load_hmac(cfg: _Config, value: Any) -> HmacAuth:
    secrets = cfg.credentials("HMAC_SECRET", value)
    if cfg.get("HMAC_SECRET_IS_BASE64", (bool,), "True or False"):
        try:
            secrets = tuple(base64.b64decode(secret, validate=True) for secret in secrets)
        except binascii.Error:
            raise cfg.fail("HMAC_SECRET", "is not valid base64") from None
        if not all(secrets):
            raise cfg.fail("HMAC_SECRET", "must not decode to an empty key")
    algorithm = cfg.get("HMAC_ALGORITHM", (str,), "a string").lower()
    if algorithm not in ALGORITHMS:
        raise cfg.fail("HMAC_ALGORITHM", f"must be one of {', '.join(ALGORITHMS)}")
    encoding = cfg.get("HMAC_SIGNATURE_ENCODING", (str,), "a string").lower()
    if encoding not in ENCODINGS:
        raise cfg.fail("HMAC_SIGNATURE_ENCODING", f"must be one of {', '.join(ENCODINGS)}")
    include_timestamp = cfg.get("HMAC_INCLUDE_TIMESTAMP", (bool,), "True or False")
    message_id_header = cfg.header_name("HMAC_MESSAGE_ID_HEADER", optional=True)
    payload_format = cfg.get("HMAC_PAYLOAD_FORMAT", (str, type(None)), "a string")
    if payload_format is None:
        payload_format = "{timestamp}.{body}" if include_timestamp else "{body}"
    unknown = sorted(set(_ANY_PLACEHOLDER.findall(payload_format)) - set(PLACEHOLDERS))
    if unknown:
        raise cfg.fail("HMAC_PAYLOAD_FORMAT", f"has unknown placeholder(s) {', '.join(unknown)}")
    if "{body}" not in payload_format:
        raise cfg.fail("HMAC_PAYLOAD_FORMAT", "must contain {body}")
    if "{svix-id}" in payload_format and message_id_header is None:
        raise cfg.fail("HMAC_PAYLOAD_FORMAT", "uses {svix-id}: set HMAC_MESSAGE_ID_HEADER too")
    tolerance = cfg.get("HMAC_TOLERANCE", (int, float, type(None)), "a number or None")
    if tolerance is not None and not (math.isfinite(tolerance) and tolerance >= 0):
        raise cfg.fail("HMAC_TOLERANCE", "must be a finite, non-negative number of seconds")
    return HmacAuth(
        secrets,
        algorithm=algorithm,
        signature_header=cfg.header_name("HMAC_SIGNATURE_HEADER"),
        timestamp_header=cfg.header_name("HMAC_TIMESTAMP_HEADER"),
        include_timestamp=include_timestamp,
        payload_format=payload_format,
        message_id_header=message_id_header,
        signature_prefix=cfg.get("HMAC_SIGNATURE_PREFIX", (str,), "a string"),
        signature_encoding=encoding,
        tolerance=None if tolerance is None else float(tolerance),
    )


def _load_headers(cfg: _Config, value: Any) -> HeadersAuth:
    if not isinstance(value, Mapping):
        raise cfg.fail("HEADERS", "must be a dict of header name to value(s)")
    required = []
    for header, allowed in value.items():
        if not isinstance(header, str) or not _HEADER_NAME.fullmatch(header):
            raise cfg.fail("HEADERS", "has a key that is not a non-empty HTTP header name")
        key = f"HEADERS[{header!r}]"
        required.append((header, cfg.credentials(key, allowed)))
    return HeadersAuth(tuple(required))


def load_authenticators(
    config: Mapping[str, Any], prefix: str = "VAPI_"
) -> tuple[Authenticator, ...]:
    """One authenticator per configured mode, in the order secret, bearer, hmac, headers.

    Raises ``ConfigurationError`` naming the offending key (never its value).
    """
    cfg = _Config(config, prefix)
    found: list[Authenticator] = []
    secret = config.get(prefix + "SECRET")
    if secret is not None:
        found.append(SecretAuth(cfg.credentials("SECRET", secret)))
    token = config.get(prefix + "BEARER_TOKEN")
    if token is not None:
        tokens = cfg.credentials("BEARER_TOKEN", token)
        header = cfg.header_name("BEARER_HEADER")
        enabled = cfg.get("BEARER_PREFIX_ENABLED", (bool,), "True or False")
        found.append(BearerAuth(tokens, header=header, prefix_enabled=enabled))
    hmac_secret = config.get(prefix + "HMAC_SECRET")
    if hmac_secret is not None:
        found.append(_load_hmac(cfg, hmac_secret))
    headers = config.get(prefix + "HEADERS")
    if headers is not None and headers != {}:
        found.append(_load_headers(cfg, headers))
    return tuple(found)
