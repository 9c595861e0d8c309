"""``VapiClient``: Flask's test client, posting signed Vapi webhooks to a ``VapiBlueprint``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional, Union

from flask.testing import EnvironBuilder, FlaskClient
from werkzeug.test import TestResponse

from .. import jsonio, payloads
from ..blueprint import VapiBlueprint
from ..locate import BlueprintRef, find_blueprint, webhook_path
from ..reply import JSON
from .signing import sign as sign_body

__all__ = ["BlueprintRef", "VapiClient", "find_blueprint", "webhook_path"]


def _envelope(message: Union[str, Mapping[str, Any]], *calls: Any, **fields: Any) -> dict[str, Any]:
    """The request body ``{"message": ...}`` for a wire type (built by its payload factory),
    a bare message or an already complete body."""
    if isinstance(message, str):
        factory = payloads.FACTORIES.get(message)
        if factory is not None:
            return payloads.wrap(factory(*calls, **fields))
        if calls:
            raise TypeError(f"Positional tool calls need the 'tool-calls' type, not {message!r}.")
        return payloads.wrap(payloads.make(message, **fields))
    if calls or fields:
        raise TypeError("Tool calls and keyword fields apply to a message type (a string) only.")
    if "type" not in message and isinstance(message.get("message"), Mapping):
        return dict(message)
    return payloads.wrap(dict(message))


class VapiClient(FlaskClient):
    """A Flask test client that posts correctly authenticated Vapi webhooks.

    Use it as the app's client class, in the style of Flask-Login's ``FlaskLoginClient``::

        app.test_client_class = VapiClient
        client = app.test_client()
        reply = client.send_message("tool-calls", ("bookAppointment", {"date": "2026-09-08"}))
        assert reply.json == {"results": [...]}

    Requests go to the webhook of the app's only :class:`~flask_vapi.VapiBlueprint`, or of
    ``blueprint=`` (a registered name or the object; also accepted by ``test_client()``),
    and are signed with that blueprint's ``{config_prefix}*`` configuration through
    :func:`~flask_vapi.testing.sign`.  ``sign=False`` and ``headers=`` (which win over the
    signed ones) make unauthenticated and tampered requests for negative tests.
    """

    def __init__(self, *args: Any, blueprint: BlueprintRef = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The blueprint used when a call passes no ``blueprint=``.
        self.blueprint = blueprint

    def _find(self, blueprint: BlueprintRef) -> tuple[str, VapiBlueprint]:
        return find_blueprint(self.application, self.blueprint if blueprint is None else blueprint)

    def webhook_url(self, blueprint: BlueprintRef = None) -> str:
        """The full webhook URL as the app sees it (``request.url``), for signing ``{url}``."""
        name, _ = self._find(blueprint)
        builder = EnvironBuilder(
            self.application,
            webhook_path(self.application, name, full=False),
            environ_base=self.environ_base,
        )
        try:
            return builder.get_request().url
        finally:
            builder.close()

    def send_message(
        self,
        message: Union[str, Mapping[str, Any]],
        *calls: payloads.ToolCallSpec,
        blueprint: BlueprintRef = None,
        sign: bool = True,
        headers: Optional[Mapping[str, str]] = None,
        **fields: Any,
    ) -> TestResponse:
        """POST a message and return the response (``.json`` is the parsed answer).

        ``message`` is a wire type, built by its payload factory with ``calls`` (for
        ``"tool-calls"``: ``(name, arguments[, id])`` tuples) and keyword ``fields``, or a
        message dict (from a factory, or captured), bare or as ``{"message": ...}``.
        """
        body = jsonio.dumps(_envelope(message, *calls, **fields))
        return self.send_body(body, blueprint=blueprint, sign=sign, headers=headers)

    def send_body(
        self,
        body: Union[bytes, str, Mapping[str, Any]],
        *,
        blueprint: BlueprintRef = None,
        sign: bool = True,
        headers: Optional[Mapping[str, str]] = None,
        method: str = "POST",
        content_type: str = JSON,
    ) -> TestResponse:
        """POST ``body`` to the webhook exactly as given: bytes, text, or a JSON-encoded mapping.

        Nothing is wrapped or checked, so malformed bodies can be tested too.  The body is
        signed (unless ``sign=False``) for the URL it is sent to; ``headers`` are added
        last and replace signed headers of the same name.
        """
        if isinstance(body, Mapping):
            data = jsonio.dumps(body)
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = bytes(body)
        name, bp = self._find(blueprint)
        builder = EnvironBuilder(
            self.application,
            webhook_path(self.application, name, full=False),
            method=method,
            data=data,
            content_type=content_type,
            headers=dict(headers or {}),
            environ_base=self.environ_base,
        )
        try:
            if sign:
                url = builder.get_request().url
                signed = sign_body(
                    data, self.application, prefix=bp.config_prefix, method=method, url=url
                )
                for header, value in signed.items():
                    if header not in builder.headers:
                        builder.headers[header] = value
            return self.open(builder)
        finally:
            builder.close()
