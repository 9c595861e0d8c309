"""``ConfigSchema``: every ``VAPI_*`` key in one declaration (default, type, check)."""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Iterator, Mapping
from typing import Any

from marshmallow import Schema, ValidationError, post_load, validates_schema

from .. import auth
from ..catalogue import ANSWERED, MARGIN
from ..errors import ConfigurationError
from .keys import (
    Choice,
    Credentials,
    Deadlines,
    Fallbacks,
    Flag,
    HeaderName,
    Key,
    PayloadFormat,
    PositiveInt,
    PositiveSeconds,
    Seconds,
    ServerTimeout,
    StaticHeaders,
)

#: The shortest ``VAPI_INSPECTOR_TOKEN`` accepted.
MIN_INSPECTOR_TOKEN = 16


class ConfigSchema(Schema):
    """Every ``{prefix}*`` key: its default, type and check; loads the un-prefixed keys.

    ``require_auth``: also refuse a configuration without any credential (registration
    does; :func:`load_authenticators` does not).  Adding a key is adding a field here.
    """

    SECRET = Credentials()
    BEARER_TOKEN = Credentials()
    BEARER_HEADER = HeaderName("Authorization")
    BEARER_PREFIX_ENABLED = Flag(True)
    HMAC_SECRET = Credentials()
    HMAC_ALGORITHM = Choice("sha256", auth.ALGORITHMS)
    HMAC_SIGNATURE_HEADER = HeaderName("x-signature")
    HMAC_TIMESTAMP_HEADER = HeaderName("x-timestamp")
    HMAC_INCLUDE_TIMESTAMP = Flag(True)
    HMAC_PAYLOAD_FORMAT = PayloadFormat()
    HMAC_MESSAGE_ID_HEADER = HeaderName(None, optional=True)
    HMAC_SIGNATURE_PREFIX = Key("")
    HMAC_SIGNATURE_ENCODING = Choice("hex", auth.ENCODINGS)
    HMAC_SECRET_IS_BASE64 = Flag(False)
    HMAC_TOLERANCE = Seconds(300, optional=True)
    HEADERS = StaticHeaders()
    AUTH_DISABLED = Flag(False)
    MAX_CONTENT_LENGTH = PositiveInt(16 * 1024 * 1024)
    FALLBACK_RESPONSES = Fallbacks({})
    SERVER_TIMEOUT = ServerTimeout(20)
    DEADLINES = Deadlines({})
    MAX_WORKERS = PositiveInt(32)
    CONTROL_TOKEN = Key(None, optional=True)
    STORE_URL = Key(None, optional=True)
    CALL_STATE_TTL = PositiveSeconds(3600)
    DEDUPLICATE = Flag(True)
    DEDUPLICATE_TTL = PositiveSeconds(86400)
    BACKGROUND = Choice("thread", ("thread", "celery"))
    BACKGROUND_WORKERS = PositiveInt(4)
    EVENT_LOG = Flag(None, optional=True)
    EVENT_LOG_MAX_AGE = PositiveSeconds(86400)
    EVENT_LOG_MAX_EVENTS = PositiveInt(1000)
    EVENT_LOG_MAX_CALLS = PositiveInt(500)
    INSPECTOR_TOKEN = Key(None, optional=True)

    #: The keys whose value is a credential (one configures a mode).
    CREDENTIAL_KEYS = ("SECRET", "BEARER_TOKEN", "HMAC_SECRET", "HEADERS")

    def __init__(self, prefix: str = "VAPI_", *, require_auth: bool = True) -> None:
        super().__init__()
        self.prefix = prefix
        self.require_auth = require_auth

    def check(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The checked values of ``config``'s ``{prefix}*`` keys (un-prefixed, with
        ``"authenticators"``); raises ``ConfigurationError`` naming every wrong key."""
        values = {key: config.get(self.prefix + key, default) for key, default in defaults()}
        try:
            checked: dict[str, Any] = self.load(values)
        except ValidationError as error:
            raise ConfigurationError(" ".join(self._sentences(error.messages))) from None
        return checked

    def _sentences(self, messages: Any, name: str = "") -> Iterator[str]:
        for key, problems in messages.items():
            if key == "_schema":
                yield from problems
                continue
            full = f"{name}[{key!r}]" if name else self.prefix + key
            if isinstance(problems, Mapping):
                yield from self._sentences(problems, full)
            else:
                yield from (f"{full} {problem}." for problem in problems)

    @validates_schema
    def _signed_timestamp(self, data: dict[str, Any], **kwargs: Any) -> None:
        # A timestamp checked for freshness but not signed can be replaced: a captured
        # request would replay forever with a fresh timestamp header.
        payload_format, p = data["HMAC_PAYLOAD_FORMAT"], self.prefix
        included = data["HMAC_INCLUDE_TIMESTAMP"]
        if included and payload_format is not None and "{timestamp}" not in payload_format:
            raise ValidationError(
                f"has no {{timestamp}} while {p}HMAC_INCLUDE_TIMESTAMP is True: the timestamp "
                "would be checked but not signed, so a captured request could be replayed "
                f"with a fresh one. Add {{timestamp}}, or set {p}HMAC_INCLUDE_TIMESTAMP = False",
                "HMAC_PAYLOAD_FORMAT",
            )
        if "{svix-id}" in (payload_format or "") and data["HMAC_MESSAGE_ID_HEADER"] is None:
            raise ValidationError(
                f"uses {{svix-id}}: set {p}HMAC_MESSAGE_ID_HEADER too", "HMAC_PAYLOAD_FORMAT"
            )

    @validates_schema
    def _deadlines(self, data: dict[str, Any], **kwargs: Any) -> None:
        timeout, p = data["SERVER_TIMEOUT"], self.prefix
        for kind, budget in data["DEADLINES"].items():
            limit = ANSWERED[kind].limit
            if budget is not None and budget >= (limit or timeout):
                waits = (
                    f"Vapi waits {limit:g} s" if limit else f"{p}SERVER_TIMEOUT is {timeout:g} s"
                )
                raise ValidationError(
                    {kind: [f"is {budget:g} s, but {waits}: leave a margin for the way back"]},
                    "DEADLINES",
                )
        if data["CONTROL_TOKEN"] == "":
            raise ValidationError("must not be empty (None: no token)", "CONTROL_TOKEN")
        token = data["INSPECTOR_TOKEN"]
        if token is not None and len(token) < MIN_INSPECTOR_TOKEN:
            raise ValidationError(
                f"must be at least {MIN_INSPECTOR_TOKEN} characters (it opens every recorded "
                "call): python -c 'import secrets; print(secrets.token_urlsafe())'",
                "INSPECTOR_TOKEN",
            )

    @validates_schema
    def _authentication(self, data: dict[str, Any], **kwargs: Any) -> None:
        p = self.prefix
        configured = [p + key for key in self.CREDENTIAL_KEYS if data[key] is not None]
        if data["AUTH_DISABLED"] and configured:
            raise ValidationError(
                f"{p}AUTH_DISABLED = True contradicts {', '.join(configured)}: set "
                f"{p}AUTH_DISABLED = False to check the credential, or remove the credential "
                "to accept unauthenticated requests (development only)."
            )
        if self.require_auth and not configured and not data["AUTH_DISABLED"]:
            raise ValidationError(
                f"No webhook authentication is configured: set {p}SECRET, "
                f"{p}BEARER_TOKEN, {p}HMAC_SECRET or {p}HEADERS to what your "
                f"Vapi server credential sends, or set {p}AUTH_DISABLED = True to accept "
                "unauthenticated requests (development only)."
            )

    @post_load
    def _build(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        found: list[auth.Authenticator] = []
        if data["SECRET"] is not None:
            found.append(auth.SecretAuth(data["SECRET"]))
        if data["BEARER_TOKEN"] is not None:
            found.append(
                auth.BearerAuth(
                    data["BEARER_TOKEN"],
                    header=data["BEARER_HEADER"],
                    prefix_enabled=data["BEARER_PREFIX_ENABLED"],
                )
            )
        if data["HMAC_SECRET"] is not None:
            found.append(self._hmac(data))
        if data["HEADERS"] is not None:
            found.append(auth.HeadersAuth(data["HEADERS"]))
        return {**data, "authenticators": tuple(found), "budgets": self._budgets(data)}

    @staticmethod
    def _budgets(data: dict[str, Any]) -> dict[str, float | None]:
        timeout = data["SERVER_TIMEOUT"]
        default = timeout - MARGIN if timeout > 2 * MARGIN else timeout / 2
        budgets = {kind.type: kind.budget or default for kind in ANSWERED.values()}
        return {**budgets, **data["DEADLINES"]}

    @staticmethod
    def _hmac(data: dict[str, Any]) -> auth.HmacAuth:
        secrets = data["HMAC_SECRET"]
        if data["HMAC_SECRET_IS_BASE64"]:
            try:
                secrets = tuple(base64.b64decode(secret, validate=True) for secret in secrets)
            except binascii.Error:
                raise ValidationError("is not valid base64", "HMAC_SECRET") from None
            if not all(secrets):
                raise ValidationError("must not decode to an empty key", "HMAC_SECRET")
        payload_format = data["HMAC_PAYLOAD_FORMAT"]
        if payload_format is None:
            payload_format = "{timestamp}.{body}" if data["HMAC_INCLUDE_TIMESTAMP"] else "{body}"
        return auth.HmacAuth(
            secrets,
            algorithm=data["HMAC_ALGORITHM"],
            signature_header=data["HMAC_SIGNATURE_HEADER"],
            timestamp_header=data["HMAC_TIMESTAMP_HEADER"],
            include_timestamp=data["HMAC_INCLUDE_TIMESTAMP"],
            payload_format=payload_format,
            message_id_header=data["HMAC_MESSAGE_ID_HEADER"],
            signature_prefix=data["HMAC_SIGNATURE_PREFIX"],
            signature_encoding=data["HMAC_SIGNATURE_ENCODING"],
            tolerance=data["HMAC_TOLERANCE"],
        )


def defaults() -> Iterator[tuple[str, Any]]:
    """Every key (un-prefixed) and a fresh copy of its default, in declaration order."""
    for key, declared in ConfigSchema._declared_fields.items():
        yield key, copy.deepcopy(declared.load_default)


#: Every key (un-prefixed) and its default.
DEFAULTS: dict[str, Any] = dict(defaults())


def load_authenticators(
    config: Mapping[str, Any], prefix: str = "VAPI_"
) -> tuple[auth.Authenticator, ...]:
    """One authenticator per configured mode, in the order secret, bearer, hmac, headers.

    Checks every ``{prefix}*`` key as registration does, but accepts a configuration
    without credentials (``()``).  Raises ``ConfigurationError`` naming the offending key.
    """
    checked = ConfigSchema(prefix, require_auth=False).check(config)
    authenticators: tuple[auth.Authenticator, ...] = checked["authenticators"]
    return authenticators
