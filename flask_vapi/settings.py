"""Reads and checks a blueprint's ``VAPI_*`` configuration once, when it is registered."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask
from marshmallow import Schema

from . import auth
from .catalogue import ANSWERS, Answer
from .errors import ConfigurationError
from .models import fastload

logger = logging.getLogger("flask_vapi")

#: Non-auth keys (without the prefix) and their defaults; auth keys are in ``auth.DEFAULTS``.
DEFAULTS: dict[str, Any] = {
    "AUTH_DISABLED": False,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "FALLBACK_RESPONSES": {},
}


def check_answer(answer: Answer, value: Any) -> Any:
    """Validation errors of a responder's return value for ``answer`` (empty when valid)."""
    if answer.schema is None:  # raw audio
        if isinstance(value, (bytes, bytearray, memoryview)):
            return {}
        return {"_schema": ["Return raw PCM audio as bytes."]}
    if not isinstance(value, dict):
        return {"_schema": [f"Return a JSON object (a dict), not {type(value).__name__}."]}
    schema = answer.schema
    one_of = getattr(schema, "REQUIRE_ONE_OF", ())
    if one_of and value.keys().isdisjoint(one_of):
        return {"_schema": ["Return one of: " + ", ".join(one_of) + "."]}
    # Marshmallow visits every declared field, present or not; a response uses a few of
    # them, so validate with a (cached) schema limited to those and the required ones.
    used = frozenset(value.keys() & schema.load_fields.keys()) | _required(schema)
    limited, plan = _limited(type(schema), used)
    if plan is not None and fastload.load_plain(plan, value) is not None:
        return {}
    return limited.validate(value)


@functools.lru_cache(maxsize=256)
def _limited(
    schema_class: type[Schema], fields: frozenset[str]
) -> tuple[Schema, fastload.Plan | None]:
    schema = schema_class(only=fields)
    return schema, fastload.plan(schema)


@functools.cache
def _required(schema: Schema) -> frozenset[str]:
    return frozenset(name for name, field in schema.load_fields.items() if field.required)


@dataclass(frozen=True)
class Settings:
    """A blueprint's settings for one app, checked at registration."""

    authenticators: tuple[auth.Authenticator, ...]
    auth_disabled: bool
    max_content_length: int
    #: Wire type -> the response sent when that type's responder fails.
    fallbacks: Mapping[str, Any]
    #: Whether an HMAC payload format signs ``{url}`` (building the URL costs ~10 µs).
    needs_url: bool = False

    @classmethod
    def from_app(cls, app: Flask, prefix: str) -> Settings:
        """Fill in defaults (``setdefault``) and check every ``{prefix}*`` key."""
        for key, default in {**auth.DEFAULTS, **DEFAULTS}.items():
            app.config.setdefault(prefix + key, default)
        config = app.config
        authenticators = auth.load_authenticators(config, prefix)

        auth_disabled = config[prefix + "AUTH_DISABLED"]
        if not isinstance(auth_disabled, bool):
            raise ConfigurationError(f"{prefix}AUTH_DISABLED must be True or False.")
        if not authenticators and not auth_disabled:
            raise ConfigurationError(
                f"No webhook authentication is configured: set {prefix}SECRET, "
                f"{prefix}BEARER_TOKEN, {prefix}HMAC_SECRET or {prefix}HEADERS to what your "
                f"Vapi server credential sends, or set {prefix}AUTH_DISABLED = True to accept "
                "unauthenticated requests (development only)."
            )
        if auth_disabled and not (app.debug or app.testing):
            logger.warning(
                "%sAUTH_DISABLED is set: the Vapi webhook accepts unauthenticated requests.",
                prefix,
            )

        max_length = config[prefix + "MAX_CONTENT_LENGTH"]
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
            raise ConfigurationError(f"{prefix}MAX_CONTENT_LENGTH must be a positive integer.")

        return cls(
            authenticators=authenticators,
            auth_disabled=auth_disabled,
            max_content_length=max_length,
            fallbacks=_fallbacks(config[prefix + "FALLBACK_RESPONSES"], prefix),
            needs_url=any(
                "{url}" in getattr(authenticator, "payload_format", "")
                for authenticator in authenticators
            ),
        )


def _fallbacks(configured: Any, prefix: str) -> dict[str, Any]:
    key = prefix + "FALLBACK_RESPONSES"
    if not isinstance(configured, Mapping):
        raise ConfigurationError(f"{key} must be a dict of message type -> response.")
    unknown = sorted(set(configured) - set(ANSWERS))
    if unknown:
        raise ConfigurationError(
            f"{key} has no response-bearing type {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(ANSWERS))}."
        )
    fallbacks = {kind: answer.fallback for kind, answer in ANSWERS.items()}
    for kind, value in configured.items():
        errors = check_answer(ANSWERS[kind], value)
        if errors:
            raise ConfigurationError(f"{key}[{kind!r}] is not a valid response: {errors}")
        fallbacks[kind] = value
    return fallbacks
