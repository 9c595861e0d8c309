"""Framework-neutral verification of Vapi webhook credentials on the raw request."""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple, Optional, Protocol

SECRET_HEADER = "X-Vapi-Secret"
ALGORITHMS = ("sha256", "sha512", "sha1")
ENCODINGS = ("hex", "base64")
PLACEHOLDERS = ("{timestamp}", "{body}", "{method}", "{url}", "{svix-id}")

_PLACEHOLDER = re.compile("(" + "|".join(re.escape(p) for p in PLACEHOLDERS) + ")")
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
    """One authentication mode; ``verify`` returns ``None`` on success, else a safe reason.

    ``needs_url``: whether ``verify`` reads ``AuthRequest.url`` (building it costs ~10 µs,
    so the blueprint passes ``""`` unless some authenticator needs it).
    """

    @property
    def name(self) -> str: ...

    @property
    def needs_url(self) -> bool: ...

    @property
    def credentials(self) -> tuple[bytes, ...]:
        """Every secret value this mode accepts (never logged: see :mod:`flask_vapi.logs`)."""
        ...

    def verify(self, request: AuthRequest, now: float) -> str | None: ...


def header(headers: HeaderLookup, name: str) -> str | None:
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


def wire(value: str) -> bytes:
    """A header value's bytes as sent: WSGI decodes them as latin-1 (signing does the inverse).

    Beyond latin-1 (only possible outside WSGI) fall back to UTF-8; lone surrogates become
    bytes that no configured (valid UTF-8) credential contains, so they simply do not match.
    """
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


def matches_any(received: bytes, expected: Sequence[bytes]) -> bool:
    """Constant-time comparison with every candidate; which one matched is not revealed."""
    matched = False
    for candidate in expected:
        matched |= hmac.compare_digest(received, candidate)
    return matched


def seconds(value: float) -> str:
    """``value`` as a header or message shows seconds: ``"300"``, ``"1700000000.5"``."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _check_header(headers: HeaderLookup, name: str, allowed: Sequence[bytes]) -> str | None:
    value = header(headers, name)
    if value is None:
        return f"missing {name} header"
    if not matches_any(wire(value), allowed):
        return f"{name} header does not match"
    return None


@dataclass(frozen=True)
class SecretAuth:
    """Legacy shared secret, sent verbatim in ``X-Vapi-Secret``."""

    name: ClassVar[str] = "secret"
    needs_url: ClassVar[bool] = False
    secrets: tuple[bytes, ...] = field(repr=False)

    @property
    def credentials(self) -> tuple[bytes, ...]:
        """The accepted secrets."""
        return self.secrets

    def verify(self, request: AuthRequest, now: float) -> str | None:
        """``None`` if ``X-Vapi-Secret`` is one of the secrets, else why not."""
        return _check_header(request.headers, SECRET_HEADER, self.secrets)


@dataclass(frozen=True)
class BearerAuth:
    """Bearer credential plan: ``<header>: Bearer <token>``, or the bare token without prefix."""

    name: ClassVar[str] = "bearer"
    needs_url: ClassVar[bool] = False
    tokens: tuple[bytes, ...] = field(repr=False)
    header: str = "Authorization"
    prefix_enabled: bool = True

    @property
    def credentials(self) -> tuple[bytes, ...]:
        """The accepted tokens."""
        return self.tokens

    def verify(self, request: AuthRequest, now: float) -> str | None:
        """``None`` if the header carries one of the tokens, else why not."""
        value = header(request.headers, self.header)
        if value is None:
            return f"missing {self.header} header"
        received = wire(value)
        if self.prefix_enabled:
            if received[:7].lower() != b"bearer ":
                return f"{self.header} header is not a Bearer credential"
            received = received[7:]
        if not matches_any(received, self.tokens):
            return f"{self.header} header does not match"
        return None


@dataclass(frozen=True, repr=False)
class HeadersAuth:
    """Static ``server.headers``: every named header must equal one of its allowed values."""

    name: ClassVar[str] = "headers"
    needs_url: ClassVar[bool] = False
    required: tuple[tuple[str, tuple[bytes, ...]], ...]

    def __repr__(self) -> str:
        return f"HeadersAuth(headers={[name for name, _ in self.required]!r})"

    @property
    def credentials(self) -> tuple[bytes, ...]:
        """Every accepted header value."""
        return tuple(value for _, allowed in self.required for value in allowed)

    def verify(self, request: AuthRequest, now: float) -> str | None:
        """``None`` if every header has one of its values, else the first problem."""
        for name, allowed in self.required:
            problem = _check_header(request.headers, name, allowed)
            if problem is not None:
                return problem
        return None


@dataclass(frozen=True)
class HmacAuth:
    """HMAC credential plan: a signature over a templated payload, optionally time-stamped.

    Fields are assumed valid: :mod:`flask_vapi.settings` checks them (for instance that a
    timestamp whose freshness is checked is also signed).
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
    def credentials(self) -> tuple[bytes, ...]:
        """The HMAC keys."""
        return self.secrets

    @property
    def needs_url(self) -> bool:
        """Whether the payload format signs ``{url}``."""
        return "{url}" in self.payload_format

    @property
    def uses_timestamp(self) -> bool:
        """Whether requests carry a timestamp header (checked for freshness)."""
        return self.include_timestamp or "{timestamp}" in self.payload_format

    def signature(
        self, secret: bytes, body: bytes, method: str, url: str, stamp: str, message_id: bytes
    ) -> bytes:
        """``prefix + encode(HMAC(secret, payload))``: the one computation for verify and sign.

        Hex digits are lower-case; ``verify`` accepts either case.
        """
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
        moment = float(stamp)
        if moment > _MILLISECONDS_ABOVE:
            moment /= 1000
        window = f"outside the {seconds(self.tolerance)} s tolerance"
        if now - moment > self.tolerance:
            return f"stale {self.timestamp_header} ({window})"
        if moment - now > self.tolerance:
            return f"{self.timestamp_header} is in the future ({window})"
        return None

    def _received_signature(self, value: str) -> bytes:
        received = wire(value)
        if self.signature_encoding == "hex":
            # Hex digits compare case-insensitively; the prefix stays literal.  lower() is
            # over the received value only, so the comparison stays constant-time.
            cut = len(self.signature_prefix.encode("utf-8", "surrogatepass"))
            received = received[:cut] + received[cut:].lower()
        return received

    def verify(self, request: AuthRequest, now: float) -> str | None:
        """``None`` if the signature matches one secret and the timestamp is fresh."""
        signature = header(request.headers, self.signature_header)
        if signature is None:
            return f"missing {self.signature_header} header"
        stamp = ""
        if self.uses_timestamp:
            received_stamp = header(request.headers, self.timestamp_header)
            if received_stamp is None:
                return f"missing {self.timestamp_header} header"
            problem = self._timestamp_problem(received_stamp, now)
            if problem is not None:
                return problem
            stamp = received_stamp
        message_id = ""
        if self.message_id_header is not None and "{svix-id}" in self.payload_format:
            received_id = header(request.headers, self.message_id_header)
            if received_id is None:
                return f"missing {self.message_id_header} header"
            message_id = received_id
        expected = [
            self.signature(
                secret, request.body, request.method, request.url, stamp, wire(message_id)
            )
            for secret in self.secrets
        ]
        if not matches_any(self._received_signature(signature), expected):
            return "signature does not match"
        return None


def verify_all(
    authenticators: Sequence[Authenticator], request: AuthRequest, now: float
) -> str | None:
    """Every configured mode must pass: the first failure's reason, else ``None``."""
    for authenticator in authenticators:
        problem = authenticator.verify(request, now)
        if problem is not None:
            return problem
    return None
