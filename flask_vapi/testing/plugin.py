"""pytest fixtures for apps with a :class:`~flask_vapi.VapiBlueprint` (entry point ``pytest11``).

They use your ``app`` fixture, as pytest-flask does::

    @pytest.fixture
    def app():
        return create_app({"TESTING": True})

    def test_call_is_logged(vapi_client, vapi_signals):
        vapi_client.send_message("status-update", status="ended")
        assert "status-update" in [record.name for record in vapi_signals]

Imports happen inside the fixtures, so loading the plugin costs nothing in test runs
that do not use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable

import pytest

if TYPE_CHECKING:
    from flask import Flask

    from ..recording import SignalRecord
    from .client import VapiClient


@pytest.fixture
def vapi_client(app: Flask) -> VapiClient:
    """A :class:`~flask_vapi.testing.VapiClient` for ``app`` (or ``app.test_client_class``,
    when that is a subclass of it): signed webhook requests."""
    from .client import VapiClient

    client_class = app.test_client_class
    if not (isinstance(client_class, type) and issubclass(client_class, VapiClient)):
        client_class = VapiClient
    return client_class(app, app.response_class, use_cookies=True)


@pytest.fixture
def vapi_signals(app: Flask) -> Iterator[list[SignalRecord]]:
    """Every flask_vapi signal ``app`` sends during the test (:func:`record_signals`)."""
    from ..recording import record_signals

    with record_signals(app) as sent:
        yield sent


@pytest.fixture
def vapi_sign(app: Flask) -> Callable[..., dict[str, str]]:
    """:func:`~flask_vapi.testing.sign` bound to ``app``'s (only, or ``blueprint=``) Vapi
    blueprint: ``vapi_sign(body, timestamp=...)`` returns the headers.  ``prefix`` and
    ``url`` default to that blueprint's config prefix and webhook URL (as the test client
    posts to it)."""
    from .client import BlueprintRef, VapiClient, find_blueprint
    from .signing import sign

    def sign_for_app(
        body: bytes, *, blueprint: BlueprintRef = None, **options: Any
    ) -> dict[str, str]:
        name, found = find_blueprint(app, blueprint)
        options.setdefault("prefix", found.config_prefix)
        if "url" not in options:
            options["url"] = VapiClient(app).webhook_url(name)
        return sign(body, app, **options)

    return sign_for_app
