"""Reads and checks a blueprint's ``VAPI_*`` configuration once, when it is registered."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask

from . import auth
from .answers import check_answer
from .catalogue import ANSWERS
from .errors import ConfigurationError

logger = logging.getLogger("flask_vapi")

#: Non-auth keys (without the prefix) and their defaults; auth keys are in ``auth.DEFAULTS``.
DEFAULTS: dict[str, Any] = {
    "AUTH_DISABLED": False,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "FALLBACK_RESPONSES": {},
}


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
