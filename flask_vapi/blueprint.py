"""``VapiBlueprint``: the HTTP adapter that reads, authenticates and parses the webhook request."""

from __future__ import annotations

import logging
import time
from typing import Any, Optional

from flask import Blueprint, Flask, Response, current_app, request

from . import auth, cli, errors, jsonio, signals
from .dispatch import JSON, Dispatcher
from .responders import ResponderMixin
from .settings import Settings

logger = logging.getLogger("flask_vapi")


class VapiBlueprint(ResponderMixin, Blueprint):
    """A Flask blueprint that is a Vapi Server URL: ``POST {url_prefix}/webhook``.

    Override points (subclass to change them): :attr:`settings_class`,
    :attr:`dispatcher_class`.
    """

    settings_class: type[Settings] = Settings
    dispatcher_class: type[Dispatcher] = Dispatcher

    def __init__(
        self,
        name: str = "vapi",
        import_name: str = __name__,
        *,
        url_prefix: Optional[str] = "/vapi",
        config_prefix: str = "VAPI_",
        **kwargs: Any,
    ) -> None:
        super().__init__(name, import_name, url_prefix=url_prefix, **kwargs)
        #: Prefix of this blueprint's config keys, e.g. ``"VAPI_SALES_"`` for a second endpoint.
        self.config_prefix = config_prefix
        self.dispatcher = self.dispatcher_class(self)
        # Every method reaches the view, so that the 405 answer is JSON like every error.
        self.add_url_rule(
            "/webhook",
            "webhook",
            self._webhook,
            methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            provide_automatic_options=False,
        )
        cli.add_commands(self)  # flask <name> tools | simulate | send

    def register(self, app: Flask, options: dict[str, Any]) -> None:  # type: ignore[override]
        """Read and check this blueprint's config, then register (errors fail startup)."""
        settings = self.settings_class.from_app(app, self.config_prefix)
        super().register(app, options)
        app.extensions.setdefault("vapi", {})[self.name] = settings

    def settings_for(self, app: Flask) -> Settings:
        """The settings this blueprint was registered with on ``app``."""
        settings: Settings = app.extensions["vapi"][self.name]
        return settings

    def _webhook(self) -> Response:
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        settings = self.settings_for(app)
        body = b""
        try:
            if request.method != "POST":
                raise errors.Rejection(
                    405, errors.METHOD_NOT_ALLOWED, "The Vapi webhook accepts POST only."
                )
            body = self._read_body(settings.max_content_length)
            if settings.authenticators:
                reason = auth.verify_all(
                    settings.authenticators,
                    auth.AuthRequest(
                        request.headers,
                        body,
                        request.method,
                        request.url if settings.needs_url else "",
                    ),
                    time.time(),
                )
                if reason is not None:
                    body = b""  # unauthenticated content is not handed to anyone
                    raise errors.Rejection(401, errors.UNAUTHORIZED, f"Unauthorized: {reason}.")
            try:
                payload = jsonio.loads(body)
            except jsonio.DecodeError:
                raise errors.Rejection(
                    400, errors.INVALID_JSON, "The request body is not valid JSON."
                ) from None
            reply = self.dispatcher.receive(app, payload, settings)
        except errors.Rejection as rejection:
            return self._reject(app, rejection, body)
        return Response(reply.body, 200, content_type=reply.content_type)

    @staticmethod
    def _read_body(limit: int) -> bytes:
        length = request.content_length
        if length is not None and length <= limit:
            return request.get_data()
        # Chunked upload without a length: read at most one byte past the limit.
        body = b"" if length is not None else request.stream.read(limit + 1)
        if length is not None or len(body) > limit:
            raise errors.Rejection(
                413, errors.PAYLOAD_TOO_LARGE, f"The request body is larger than {limit} bytes."
            )
        return body

    def _reject(self, app: Flask, rejection: errors.Rejection, body: bytes) -> Response:
        logger.log(
            logging.INFO if rejection.status == 405 else logging.WARNING,
            "Rejected a Vapi webhook request: %d %s: %s",
            rejection.status,
            rejection.code,
            rejection.message,
        )
        self.dispatcher.send(
            app,
            signals.request_rejected,
            None,
            status=rejection.status,
            code=rejection.code,
            reason=rejection.message,
            body=body if rejection.status in (400, 422) else None,
        )
        response = Response(jsonio.dumps(rejection.body()), rejection.status, content_type=JSON)
        if rejection.status == 405:
            response.headers["Allow"] = "POST"
        return response
