"""What the ``flask vapi`` commands share: the webhook URL from a base URL, signed local posts.

Nothing here imports ``flask.testing`` (and with it ``click.testing`` and ``pdb``): the
blueprint module imports this package, so ``import flask_vapi`` would load them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import click
from flask import Flask, current_app, request
from werkzeug.test import TestResponse

from .. import auth
from ..locate import webhook_path

if TYPE_CHECKING:
    from ..blueprint import VapiBlueprint


def command_app() -> Flask:
    """The app the ``flask`` command loaded (``--app``), as an object."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def webhook_url(base: str, path: str, option: str) -> str:
    """The webhook's URL from a base URL given in ``option``: a bare origin (or a proxy
    prefix, ``https://host/clinic``) gets the webhook ``path`` appended, a URL that
    already ends with ``path`` is used as is.  The query string is kept.

    Raises ``click.BadParameter`` for anything but an absolute http(s) URL.
    """
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"{base!r} is not an http(s) URL.", param_hint=option)
    if parts.path.rstrip("/").endswith(path):
        return base
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + path))


def auth_headers(app: Flask, blueprint: VapiBlueprint, body: bytes, url: str) -> dict[str, str]:
    """The headers Vapi would send with ``body`` to ``url``, from the authenticators the
    blueprint was registered with (every configured mode, each with its first credential)."""
    return auth.sign_headers(blueprint.settings_for(app).authenticators, body, url=url)


def post_in_process(
    app: Flask, blueprint: VapiBlueprint, name: str, body: bytes, *, sign: bool = True
) -> TestResponse:
    """POST ``body`` to the webhook of ``blueprint`` (registered as ``name``) through the
    app's test client, signed for the URL the app sees unless ``sign=False``."""
    path = webhook_path(app, name, full=False)
    headers: dict[str, str] = {}
    if sign:
        with app.test_request_context(path, method="POST"):
            headers = auth_headers(app, blueprint, body, request.url)
    response: TestResponse = app.test_client().post(
        path, data=body, content_type="application/json", headers=headers
    )
    return response
