"""``sign()``: the headers Vapi would send for a body, made by the authenticators that verify it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Optional, Union

from flask import Flask

from .. import auth, settings
from ..blueprint import VapiBlueprint

logger = logging.getLogger("flask_vapi")


def sign(
    body: bytes,
    config: Union[Mapping[str, Any], Flask],
    *,
    prefix: str = "VAPI_",
    method: str = "POST",
    url: str = "",
    timestamp: Optional[float] = None,
    message_id: Optional[str] = None,
) -> dict[str, str]:
    """The authentication headers for ``body`` under every mode configured in ``config``.

    ``config`` is an app or any mapping of ``{prefix}*`` keys, so a test can also sign
    with credentials the app does *not* accept.  For an app with a
    :class:`~flask_vapi.VapiBlueprint` of this ``prefix`` registered, the settings it was
    registered with sign, as they are the ones that verify (if ``app.config`` changed
    since, a warning names the keys); otherwise ``app.config`` is read.  Each mode signs
    with its first credential; the headers of all configured modes are merged, as the
    blueprint requires every one of them.  Without any configured mode the result is
    ``{}``.

    ``method`` and ``url`` matter only to an HMAC ``{method}``/``{url}`` payload
    format: ``url`` must then be the URL the app sees (``request.url``).
    ``timestamp`` (Unix seconds, default now) and ``message_id`` (default random)
    feed the HMAC timestamp and message-id headers.

    Raises :class:`~flask_vapi.ConfigurationError` for an invalid configuration.
    """
    if not isinstance(body, (bytes, bytearray)):
        raise TypeError(f"sign() needs the exact body bytes, not {type(body).__name__}.")
    if isinstance(config, Flask):
        registered = _registered_settings(config, prefix)
        if registered is not None:
            authenticators = registered.authenticators
        else:
            authenticators = settings.load_authenticators(config.config, prefix)
    else:
        authenticators = settings.load_authenticators(config, prefix)
    return auth.sign_headers(
        authenticators, body, method=method, url=url, timestamp=timestamp, message_id=message_id
    )


def _registered_settings(app: Flask, prefix: str) -> Optional[settings.Settings]:
    """The settings of ``app``'s Vapi blueprint with config prefix ``prefix``, if any.

    Logs a warning when ``app.config`` changed them after registration: the webhook
    still verifies with the registered settings.
    """
    for name, blueprint in app.blueprints.items():
        if isinstance(blueprint, VapiBlueprint) and blueprint.config_prefix == prefix:
            found = blueprint.settings_for(app)
            changed = found.changed_keys(app.config)
            if changed:
                logger.warning(
                    "%s changed after the %r blueprint was registered: its webhook verifies, "
                    "and the test kit signs, with the registered value. Change app.config "
                    "before register_blueprint().",
                    ", ".join(changed),
                    name,
                )
            return found
    return None
