"""Every ``VAPI_*`` key read and checked once, when a blueprint is registered: ``Settings``."""

from __future__ import annotations

import copy
import difflib
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from .. import auth, runner
from ..errors import ConfigurationError
from ..store import Store, open_store
from ..store.lazy import LazyStore
from ..store.memory import MemoryStore
from .schema import DEFAULTS, ConfigSchema, defaults, load_authenticators

__all__ = [
    "DEFAULTS",
    "TYPO_CUTOFF",
    "ConfigSchema",
    "Settings",
    "defaults",
    "load_authenticators",
    "unknown_keys",
]

logger = logging.getLogger("flask_vapi")

#: How close (difflib ratio) an unknown ``VAPI_*`` key must be to a known one to be a typo.
TYPO_CUTOFF = 0.8


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
    #: Type Vapi waits an answer for -> its budget in seconds (``None``: no deadline).
    budgets: Mapping[str, float | None] = field(default_factory=dict)
    #: Seconds Vapi waits for an answer where it sets no limit of its own (``timeoutSeconds``).
    server_timeout: float = 20.0
    #: Where handlers of answered types run (``VAPI_MAX_WORKERS`` threads).
    pool: runner.Pool = field(default_factory=lambda: runner.Pool(32), repr=False, compare=False)
    #: Sent as ``Authorization: Bearer`` to Live Call Control (``VAPI_CONTROL_TOKEN``).
    control_token: str | None = field(default=None, repr=False)
    #: Where call state, deduplication and background claims live (``VAPI_STORE_URL``).
    store: Store = field(default_factory=MemoryStore, repr=False, compare=False)
    #: Seconds call state is kept after the call's end-of-call report.
    call_state_ttl: float = 3600.0
    #: Whether redelivered messages and tool calls are answered without running anything.
    deduplicate: bool = True
    #: Seconds a message or tool call is remembered for deduplication.
    deduplicate_ttl: float = 86400.0
    #: Where ``background=True`` receivers run: ``"thread"`` or ``"celery"``.
    background: str = "thread"
    #: Threads of the ``"thread"`` background pool.
    background_workers: int = 4
    #: Whether webhooks are recorded (``None``: while ``app.debug``).
    event_log: bool | None = None
    #: Seconds a recorded call is kept.
    event_log_max_age: float = 86400.0
    #: Events kept per call, and calls listed.
    event_log_max_events: int = 1000
    event_log_max_calls: int = 500
    #: Opens the call inspector outside ``app.debug`` (``VAPI_INSPECTOR_TOKEN``).
    inspector_token: str | None = field(default=None, repr=False)
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
            budgets=checked["budgets"],
            server_timeout=checked["SERVER_TIMEOUT"],
            pool=runner.Pool(checked["MAX_WORKERS"]),
            control_token=checked["CONTROL_TOKEN"],
            store=_store(app, prefix, checked["STORE_URL"]),
            call_state_ttl=checked["CALL_STATE_TTL"],
            deduplicate=checked["DEDUPLICATE"],
            deduplicate_ttl=checked["DEDUPLICATE_TTL"],
            background=checked["BACKGROUND"],
            background_workers=checked["BACKGROUND_WORKERS"],
            event_log=checked["EVENT_LOG"],
            event_log_max_age=checked["EVENT_LOG_MAX_AGE"],
            event_log_max_events=checked["EVENT_LOG_MAX_EVENTS"],
            event_log_max_calls=checked["EVENT_LOG_MAX_CALLS"],
            inspector_token=checked["INSPECTOR_TOKEN"],
            prefix=prefix,
            registered={prefix + key: copy.deepcopy(app.config[prefix + key]) for key in DEFAULTS},
        )

    def changed_keys(self, config: Mapping[str, Any]) -> list[str]:
        """The ``{prefix}*`` keys whose value in ``config`` differs from the registered one."""
        return [key for key, value in self.registered.items() if config.get(key) != value]


def _store(app: Flask, prefix: str, url: str | None) -> Store:
    """The configured store, opened and checked now; by default a SQLite file in the
    instance folder, created on first use (``memory://`` of its own under ``app.testing``)."""
    if url is not None:
        try:
            return open_store(url, instance_path=app.instance_path)
        except ConfigurationError as error:  # name the key with this blueprint's prefix
            text = str(error).replace("VAPI_STORE_URL", prefix + "STORE_URL")
            raise ConfigurationError(text) from None
    if app.testing:
        return MemoryStore()
    path = os.path.join(app.instance_path, "flask-vapi.sqlite3")
    problem = _uncreatable(path)
    if problem is not None:
        raise ConfigurationError(
            f"{prefix}STORE_URL is not set, and the default store sqlite:///{path} cannot "
            f"be created: {problem}. Set {prefix}STORE_URL (sqlite:///<path>, redis://...) "
            "or make the app's instance folder writable."
        )
    return LazyStore(lambda: open_store("sqlite:///" + path), "sqlite:///" + path)


def _uncreatable(path: str) -> str | None:
    """Why the file ``path`` (and its missing folders) could not be made, or ``None``;
    nothing is created."""
    if os.path.exists(path):
        if not os.path.isfile(path):
            return f"{path} is not a file"
        return None if os.access(path, os.R_OK | os.W_OK) else f"{path} is not writable"
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(folder) and folder != os.path.dirname(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{folder} is not writable"
    return None
