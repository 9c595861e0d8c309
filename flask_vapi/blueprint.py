"""``VapiBlueprint``: the HTTP adapter that reads, authenticates and parses the webhook request."""

from __future__ import annotations

import importlib.util
import logging
import time
from typing import Any, Optional

from flask import Blueprint, Flask, Response, current_app, request, stream_with_context
from flask.blueprints import BlueprintSetupState

from . import auth, cli, errors, jsonio, logs, observe, signals
from .dispatch import Dispatcher
from .errors import ConfigurationError
from .inspector import inspector_blueprint
from .logs import logger
from .reply import JSON
from .responders import ResponderMixin
from .settings import Settings
from .store.eventlog import EventLog
from .store.memory import MemoryStore
from .store.state import CallState
from .toolcalls import LateResultFormatter
from .tools import describe_errors


class VapiBlueprint(ResponderMixin, Blueprint):
    """A Flask blueprint that is a Vapi Server URL: ``POST {url_prefix}/webhook``.

    ``late_result_formatter(tool name, tool call id, results[] entry) -> str`` writes the
    content of late tool results posted into the call (default:
    :func:`flask_vapi.background.control.format_late_result`).

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
        late_result_formatter: Optional[LateResultFormatter] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, import_name, url_prefix=url_prefix, **kwargs)
        #: Prefix of this blueprint's config keys, e.g. ``"VAPI_SALES_"`` for a second endpoint.
        self.config_prefix = config_prefix
        self.dispatcher = self.dispatcher_class(self)
        if late_result_formatter is not None:
            if not callable(late_result_formatter):
                raise ConfigurationError("late_result_formatter must be callable.")
            self.dispatcher.format_late_result = late_result_formatter
        self.record(self._add_webhook_rule)
        self.register_blueprint(inspector_blueprint(self))  # {url_prefix}/inspector/
        cli.add_commands(self)  # flask <name> tools | simulate | send

    def register(self, app: Flask, options: dict[str, Any]) -> None:  # type: ignore[override]
        """Read and check this blueprint's config, then register (errors fail startup)."""
        registered = app.extensions.get("vapi", {})
        if options.get("name", self.name) != self.name or self.name in registered:
            raise ConfigurationError(
                f"The VapiBlueprint {self.name!r} is already registered on this app, or is being "
                "registered under another name: each endpoint needs its own VapiBlueprint("
                "name=..., url_prefix=..., config_prefix=...), so that its settings, CLI and "
                "receivers' blueprint= are its own."
            )
        settings = self.settings_class.from_app(app, self.config_prefix)
        self._check_tool_timeouts(settings)
        runner = self._background_runner(app, settings) if self.dispatcher.background else None
        super().register(app, options)
        app.extensions.setdefault("vapi", {})[self.name] = settings
        if runner is not None:
            app.extensions.setdefault("vapi_background", {})[settings.prefix] = runner
        for authenticator in settings.authenticators:
            logs.add_secrets(authenticator.credentials)
        if settings.control_token is not None:
            logs.add_secrets((settings.control_token,))
        if settings.inspector_token is not None:
            logs.add_secrets((settings.inspector_token,))
        app.extensions.setdefault("vapi_observers", {})[self.name] = self._observers(app, settings)

    def _check_tool_timeouts(self, settings: Settings) -> None:
        """A tool's ``timeout=`` must end before Vapi stops waiting; past the type's budget
        it is cut to the budget (said once, here)."""
        budget = settings.budgets.get("tool-calls")
        for name, tool in self.dispatcher.tools.items():
            if tool.timeout is None:
                continue
            if tool.timeout >= settings.server_timeout:
                raise ConfigurationError(
                    f"The tool {name!r} has timeout={tool.timeout:g} s, but "
                    f"{settings.prefix}SERVER_TIMEOUT is {settings.server_timeout:g} s: Vapi "
                    "stops waiting first. Leave a margin for the way back."
                )
            if budget is not None and tool.timeout > budget:
                logger.warning(
                    "The tool %r has timeout=%g s, longer than the tool-calls budget "
                    "(%g s, %sDEADLINES): the budget applies.",
                    name,
                    tool.timeout,
                    budget,
                    settings.prefix,
                )

    def _observers(self, app: Flask, settings: Settings) -> observe.Observers:
        """Who sees this endpoint's requests: the event log (``VAPI_EVENT_LOG``) and
        OpenTelemetry (when it is installed)."""
        event_log = None
        if settings.event_log is not False:
            event_log = EventLog(
                settings.store,
                namespace=settings.prefix,
                max_age=settings.event_log_max_age,
                max_events=settings.event_log_max_events,
                max_calls=settings.event_log_max_calls,
            )
        return observe.Observers(event_log, settings.event_log is None, _opentelemetry())

    def event_log(self, app: Optional[Flask] = None) -> Optional[EventLog]:
        """This endpoint's event log on ``app`` (default: the current app), or ``None``
        while it is off (``VAPI_EVENT_LOG = False``, or unset and not ``app.debug``)::

            for summary in vapi.event_log(app).calls():
                print(summary["call_id"], summary["events"])
        """
        app = app or current_app._get_current_object()  # type: ignore[attr-defined]
        observers: observe.Observers = app.extensions["vapi_observers"][self.name]
        if observers.event_log is None or (observers.event_log_when_debugging and not app.debug):
            return None
        assert isinstance(observers.event_log, EventLog)
        return observers.event_log

    def _background_runner(self, app: Flask, settings: Settings) -> Any:
        """Where this blueprint's background receivers run (``VAPI_BACKGROUND``)."""
        from .background.receivers import ThreadRunner

        if settings.background == "thread":
            return ThreadRunner(settings.background_workers, on_error=self.dispatcher.failed)
        try:
            from .background.celery import CeleryRunner
        except ImportError:
            raise ConfigurationError(
                f"{settings.prefix}BACKGROUND = 'celery' needs Celery: "
                "pip install 'flask-vapi[celery]'"
            ) from None
        if isinstance(settings.store, MemoryStore):
            logger.warning(
                "%sBACKGROUND = 'celery' with a memory:// store: each Celery worker keeps its "
                "own claims, so a message may run once per worker. Set %sSTORE_URL to the "
                "Redis the workers share.",
                settings.prefix,
                settings.prefix,
            )
        runner = CeleryRunner(
            settings.store, done_ttl=settings.deduplicate_ttl, on_error=self.dispatcher.failed
        )
        runner.init_app(app, self.name)
        return runner

    def _add_webhook_rule(self, state: BlueprintSetupState) -> None:
        # A rule without methods matches every method (Werkzeug would otherwise answer
        # methods it does not route, TRACE or PROPFIND, with its own HTML 405): the view
        # answers all but POST with the documented JSON 405.
        path = "/webhook"
        if state.url_prefix is not None:
            path = state.url_prefix.rstrip("/") + path
        endpoint = f"{state.name_prefix}.{state.name}.webhook".lstrip(".")
        rule = state.app.url_rule_class(
            path, endpoint=endpoint, methods=None, subdomain=state.subdomain
        )
        state.app.url_map.add(rule)
        state.app.view_functions[endpoint] = self._webhook

    def settings_for(self, app: Flask) -> Settings:
        """The settings this blueprint was registered with on ``app``."""
        settings: Settings = app.extensions["vapi"][self.name]
        return settings

    def call_state(self, call_id: str, app: Optional[Flask] = None) -> CallState:
        """The state of call ``call_id`` outside a webhook (a background job, a CLI command),
        in the store of ``app`` (default: the current app)::

            with app.app_context():
                vapi.call_state(call_id)["crm_synced"] = True
        """
        app = app or current_app._get_current_object()  # type: ignore[attr-defined]
        return CallState(self.settings_for(app).store, call_id)

    def _webhook(self) -> Response:
        arrived = time.monotonic()  # budgets count from here: reading and checking count
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        settings = self.settings_for(app)
        observers = app.extensions["vapi_observers"][self.name].active(app)
        if observers:
            return self._observed(app, settings, arrived, observers)
        return self._handle(app, settings, arrived)

    def _observed(
        self,
        app: Flask,
        settings: Settings,
        arrived: float,
        observers: tuple[observe.Observer, ...],
    ) -> Response:
        """Handle the request under a trace, then show the trace to ``observers``."""
        trace = observe.Trace(arrived, time.time())
        token = observe.observing(trace)
        try:
            response = self._handle(app, settings, arrived)
            trace.status = response.status_code
            trace.content_type = response.content_type or ""
            trace.answer = None if response.is_streamed else response.get_data()
            trace.answered = time.monotonic()
        finally:
            trace.done = True
            observe.done(token)
        for observer in observers:
            try:
                observer.finish(app, trace)
            except Exception as exc:  # seeing a call never fails it
                logger.warning("A flask-vapi observer failed: %s: %s", type(exc).__name__, exc)
        return response

    def _handle(self, app: Flask, settings: Settings, arrived: float) -> Response:
        """Read, authenticate and parse the request; dispatch it; the response."""
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
            trace = observe.current_trace()
            if trace is not None:
                trace.payload, trace.body = payload, body
            reply = self.dispatcher.receive(app, payload, settings, arrived, body)
        except errors.Rejection as rejection:
            return self._reject(app, rejection, body)
        if isinstance(reply.body, bytes):
            return Response(reply.body, 200, content_type=reply.content_type)
        # A streamed voice answer is produced after this view returns.
        return Response(stream_with_context(reply.body), 200, content_type=reply.content_type)

    @staticmethod
    def _read_body(limit: int) -> bytes:
        """The body, under ``VAPI_MAX_CONTENT_LENGTH`` alone (never read past limit + 1).

        The app's own ``MAX_CONTENT_LENGTH`` (an upload limit of 1 MiB, say) must not refuse
        a 2 MB end-of-call report with Werkzeug's HTML 413: when it would, the body is read
        from the WSGI input directly.
        """
        length = request.content_length
        if length is not None and length > limit:
            raise _too_large(limit)
        app_limit = request.max_content_length
        if app_limit is None or (length is not None and length <= app_limit):
            if length is not None:
                return request.get_data()  # cached: before_request hooks may read it too
            body = _read(request.stream, limit + 1)
        else:
            stream = request.environ["wsgi.input"]
            if length is not None:
                return _read(stream, length)
            if not request.environ.get("wsgi.input_terminated"):
                return b""  # neither a length nor a terminated stream: no body (as Werkzeug)
            body = _read(stream, limit + 1)
        if len(body) > limit:  # chunked upload past the limit
            raise _too_large(limit)
        return body

    def _reject(self, app: Flask, rejection: errors.Rejection, body: bytes) -> Response:
        trace = observe.current_trace()
        if trace is not None:
            trace.rejected = (rejection.code, rejection.message)
            trace.message_type = trace.message_type or rejection.message_type
            trace.call_id = trace.call_id or rejection.call_id
            if rejection.status == 401:
                trace.payload = trace.body = None
        details = f" (type {logs.quoted(rejection.message_type)}" if rejection.message_type else ""
        if rejection.call_id:
            details += f"{', ' if details else ' ('}call {logs.quoted(rejection.call_id)}"
        details += ")" if details else ""
        logger.log(
            logging.INFO if rejection.status == 405 else logging.WARNING,
            "Rejected a Vapi webhook request from %s: %d %s: %s%s%s",
            request.remote_addr or "an unknown address",
            rejection.status,
            rejection.code,
            rejection.message,
            details,
            f" Fields: {logs.short(describe_errors(rejection.errors))}" if rejection.errors else "",
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


def _opentelemetry() -> tuple[observe.SwitchedObserver, ...]:
    """The OpenTelemetry observer when OpenTelemetry is installed (else nothing is imported)."""
    try:
        if importlib.util.find_spec("opentelemetry") is None:
            return ()
        from .otel import OpenTelemetryObserver
    except (ImportError, ValueError):  # hidden, or an opentelemetry package without the API
        return ()
    return (OpenTelemetryObserver(),)


def _too_large(limit: int) -> errors.Rejection:
    return errors.Rejection(
        413, errors.PAYLOAD_TOO_LARGE, f"The request body is larger than {limit} bytes."
    )


def _read(stream: Any, size: int) -> bytes:
    """Up to ``size`` bytes: a server's input may return fewer per ``read`` than asked."""
    parts = []
    while size > 0:
        part = stream.read(min(size, 64 * 1024))
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)
