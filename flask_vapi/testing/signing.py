"""``sign()``: the headers Vapi would send for a body, made by the authenticators that verify it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional, Union

from flask import Flask

from .. import auth


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

    ``config`` is an app (its ``app.config``) or any mapping of ``{prefix}*`` keys, so
    a test can also sign with credentials the app does *not* accept.  Each mode signs
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
    values = config.config if isinstance(config, Flask) else config
    headers: dict[str, str] = {}
    for authenticator in auth.load_authenticators(values, prefix):
        headers.update(
            authenticator.sign(
                bytes(body), method=method, url=url, timestamp=timestamp, message_id=message_id
            )
        )
    return headers
