"""Every ``VAPI_*`` key declared once (default, type, check), read when a blueprint registers."""

from __future__ import annotations

import base64
import binascii
import copy
import difflib
import logging
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from marshmallow import Schema, ValidationError, post_load, validates_schema

from . import auth
from .answers import check_answer
from .catalogue import ANSWERS
from .errors import ConfigurationError
from .models.base import Field

logger = logging.getLogger("flask_vapi")

_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token
_ANY_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
#: How close (difflib ratio) an unknown ``VAPI_*`` key must be to a known one to be a typo.
TYPO_CUTOFF = 0.8


# -- one field class per kind of value; messages follow the full key, never show the value --


class Key(Field):
    """A config key: ``default`` when unset, values of type ``kinds`` (``bool`` only if
    listed), checked further by :meth:`check`.  ``optional``: ``None`` is valid as is."""

    kinds: tuple[type, ...] = (str,)
    #: What the value must be, for the type error: "must be {what}, not int".
    what = "a string"

    def __init__(self, default: Any = None, *, optional: bool = False) -> None:
        super().__init__(
            load_default=default,
            allow_none=optional,
            error_messages={"null": f"must be {self.what}, not NoneType"},
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, self.kinds) or (
            isinstance(value, bool) and bool not in self.kinds
        ):
            raise ValidationError(f"must be {self.what}, not {type(value).__name__}")
        return self.check(value)

    def check(self, value: Any) -> Any:
        """The checked value; raises ``ValidationError`` with what is wrong."""
        return value


class Flag(Key):
    """``True`` or ``False``."""

    kinds = (bool,)
    what = "True or False"


class HeaderName(Key):
    """An HTTP header name (an RFC 9110 token)."""

    def check(self, value: Any) -> Any:
        if not _HEADER_NAME.fullmatch(value):
            raise ValidationError("must be a non-empty HTTP header name")
        return value


class Choice(Key):
    """One of ``choices``, in any case (returned in lower case)."""

    def __init__(self, default: str, choices: tuple[str, ...]) -> None:
        super().__init__(default)
        self.choices = choices

    def check(self, value: Any) -> Any:
        if value.lower() not in self.choices:
            raise ValidationError(f"must be one of {', '.join(self.choices)}")
        return value.lower()


def _credentials(value: Any) -> tuple[bytes, ...]:
    items = (value,) if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
        raise ValidationError("must be a string or a list of strings")
    if not items or not all(items):
        raise ValidationError("must not be an empty string or an empty list")
    return tuple(item.encode("utf-8", "surrogatepass") for item in items)


class Credentials(Key):
    """A credential or a list of them (rotation), UTF-8 encoded; ``None``: mode not configured."""

    kinds = (object,)
    what = "a string or a list of strings"

    def __init__(self) -> None:
        super().__init__(None, optional=True)

    def check(self, value: Any) -> tuple[bytes, ...]:
        return _credentials(value)


class StaticHeaders(Key):
    """``{header name: credential(s)}``; ``None`` or ``{}``: mode not configured."""

    kinds = (Mapping,)
    what = "a dict of header name to value(s)"

    def __init__(self) -> None:
        super().__init__(None, optional=True)

    def check(self, value: Any) -> tuple[tuple[str, tuple[bytes, ...]], ...] | None:
        required = []
        for name, allowed in value.items():
            if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
                raise ValidationError("has a key that is not a non-empty HTTP header name")
            try:
                required.append((name, _credentials(allowed)))
            except ValidationError as error:
                raise ValidationError({name: error.messages}) from None
        return tuple(required) or None


class PayloadFormat(Key):
    """An HMAC payload template: known placeholders only, and ``{body}``."""

    def __init__(self) -> None:
        super().__init__(None, optional=True)

    def check(self, value: Any) -> Any:
        unknown = sorted(set(_ANY_PLACEHOLDER.findall(value)) - set(auth.PLACEHOLDERS))
        if unknown:
            raise ValidationError(f"has unknown placeholder(s) {', '.join(unknown)}")
        if "{body}" not in value:
            raise ValidationError("must contain {body}")
        return value


class Seconds(Key):
    """A finite, non-negative number of seconds, as a float."""

    kinds = (int, float)
    what = "a number or None"

    def check(self, value: Any) -> float:
        if not (math.isfinite(value) and value >= 0):
            raise ValidationError("must be a finite, non-negative number of seconds")
        return float(value)


class PositiveInt(Key):
    """An integer of at least 1."""

    kinds = (int,)
    what = "a positive integer"

    def check(self, value: Any) -> Any:
        if value < 1:
            raise ValidationError("must be a positive integer")
        return value


class Fallbacks(Key):
    """Response-bearing type -> the response sent when its responder fails, checked like a
    responder's answer; the result has every type, with the built-in fallback for the rest."""

    kinds = (Mapping,)
    what = "a dict of message type -> response"

    def check(self, value: Any) -> dict[str, Any]:
        unknown = sorted(set(value) - set(ANSWERS))
        if unknown:
            raise ValidationError(
                f"has no response-bearing type {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(ANSWERS))}"
            )
        fallbacks = {kind: answer.fallback for kind, answer in ANSWERS.items()}
        for kind, response in value.items():
            errors = check_answer(ANSWERS[kind], response)
            if errors:
                raise ValidationError({kind: [f"is not a valid response: {errors}"]})
            fallbacks[kind] = response
        return fallbacks


# -- the schema: one line per key ---------------------------------------------------------------


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
        return {**data, "authenticators": tuple(found)}

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


def unknown_keys(
    config: Mapping[str, Any], prefix: str, others: tuple[str, ...] = ()
) -> Iterator[tuple[str, str]]:
    """``(key, closest known key)`` for each ``{prefix}*`` key that looks like a typo.

    A key is a typo when it is not known but close to a known one (difflib ratio of at
    least :data:`TYPO_CUTOFF`, ignoring case), so that the application's own keys
    (``VAPI_API_KEY``, ``VAPI_ASSISTANT_ID``, ...) pass.  Keys of the ``others`` prefixes
    (other blueprints'), and ``{prefix}<anything>_<known key>`` (a prefix not registered
    yet), are not this prefix's.
    """
    known = list(DEFAULTS)
    for key in config:
        if not isinstance(key, str) or not key.startswith(prefix) or key.startswith(others):
            continue
        rest = key[len(prefix) :]
        if rest in DEFAULTS or any(rest.endswith("_" + name) for name in known):
            continue
        close = difflib.get_close_matches(rest.upper(), known, n=1, cutoff=TYPO_CUTOFF)
        if close:
            yield key, prefix + close[0]


@dataclass(frozen=True)
class Settings:
    """A blueprint's settings for one app, checked at registration."""

    authenticators: tuple[auth.Authenticator, ...]
    auth_disabled: bool
    max_content_length: int
    #: Wire type -> the response sent when that type's responder fails.
    fallbacks: Mapping[str, Any]
    #: Whether an authenticator reads the request URL (building it costs ~10 µs).
    needs_url: bool = False
    #: The config prefix the settings were read with.
    prefix: str = "VAPI_"
    #: ``{prefix}*`` key -> value as registered (hidden: it holds credentials).
    registered: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_app(cls, app: Flask, prefix: str) -> Settings:
        """Fill in defaults (``setdefault``), check every ``{prefix}*`` key, log typos."""
        for key, default in defaults():
            app.config.setdefault(prefix + key, default)
        others = tuple(
            settings.prefix
            for settings in app.extensions.get("vapi", {}).values()
            if settings.prefix != prefix and settings.prefix.startswith(prefix)
        )
        for key, known in unknown_keys(app.config, prefix, others):
            logger.warning(
                "%s is not a flask_vapi setting and is ignored: did you mean %s?", key, known
            )
        checked = ConfigSchema(prefix).check(app.config)
        if checked["AUTH_DISABLED"] and not (app.debug or app.testing):
            logger.warning(
                "%sAUTH_DISABLED is set: the Vapi webhook accepts unauthenticated requests.",
                prefix,
            )
        authenticators: tuple[auth.Authenticator, ...] = checked["authenticators"]
        return cls(
            authenticators=authenticators,
            auth_disabled=checked["AUTH_DISABLED"],
            max_content_length=checked["MAX_CONTENT_LENGTH"],
            fallbacks=checked["FALLBACK_RESPONSES"],
            needs_url=any(authenticator.needs_url for authenticator in authenticators),
            prefix=prefix,
            registered={prefix + key: copy.deepcopy(app.config[prefix + key]) for key in DEFAULTS},
        )

    def changed_keys(self, config: Mapping[str, Any]) -> list[str]:
        """The ``{prefix}*`` keys whose value in ``config`` differs from the registered one."""
        return [key for key, value in self.registered.items() if config.get(key) != value]
