"""OpenTelemetry spans of each webhook, made from its finished trace (only with OpenTelemetry).

Imported by the blueprint only when ``opentelemetry`` is installed (``flask-vapi[otel]``),
and active only while the app has a real tracer provider: with the default no-op provider
no trace is even made.  The spans are built after the answer, with the times the trace
took, so they cost the request nothing while it runs; the webhook's span is a child of
the current span, e.g. the server span of opentelemetry-instrumentation-flask.  Spans
carry ids, names and outcomes, never bodies, arguments or results (they hold what callers
said).
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from opentelemetry import trace as otel

from . import __version__
from .observe import Trace

_ERRORS = ("error", "timeout", "busy")
#: Seconds between two looks at the global tracer provider (a look costs ~2 µs).
RECHECK = 1.0
_NO_OP = (otel.ProxyTracerProvider, otel.NoOpTracerProvider)


class OpenTelemetryObserver:
    """Makes the spans of finished traces with the global tracer provider."""

    def __init__(self) -> None:
        self._provider: Any = None
        self._tracer: otel.Tracer | None = None
        self._next_look = 0.0

    def active(self) -> bool:
        """Whether a real tracer provider is set: looked at once a second at most, so a
        provider set at startup is seen from the first webhook, one set later within 1 s."""
        now = time.monotonic()
        if now < self._next_look:
            return self._tracer is not None
        self._next_look = now + RECHECK
        provider = otel.get_tracer_provider()
        if provider is not self._provider:
            self._provider = provider
            real = not isinstance(provider, _NO_OP)
            self._tracer = provider.get_tracer("flask_vapi", __version__) if real else None
        return self._tracer is not None

    def finish(self, app: Flask, trace: Trace) -> None:
        """The spans of ``trace``: the webhook's, then one per tool call and receiver."""
        tracer = self._tracer
        if tracer is None:
            return

        def ns(moment: float) -> int:
            return int((trace.at + (moment - trace.arrived)) * 1e9)

        answered = trace.answered if trace.answered is not None else time.monotonic()
        span = tracer.start_span(
            f"vapi {trace.message_type or 'webhook'}",
            start_time=ns(trace.arrived),
            attributes=_attributes(trace),
        )
        for failure in trace.failures:
            span.add_event(
                "exception",
                {
                    "exception.type": failure.exception,
                    "exception.message": failure.message,
                    "exception.stacktrace": failure.traceback,
                    "vapi.handler": failure.handler,
                },
                timestamp=ns(answered),
            )
        if trace.status >= 400 or trace.failures:
            span.set_status(otel.Status(otel.StatusCode.ERROR, _why(trace)))
        inside = otel.set_span_in_context(span)
        for run in trace.tools:
            tool = tracer.start_span(
                f"vapi tool {run.name}", context=inside, start_time=ns(run.started)
            )
            tool.set_attribute("vapi.tool.name", run.name)
            tool.set_attribute("vapi.tool.outcome", run.outcome)
            if run.id is not None:
                tool.set_attribute("vapi.tool_call.id", run.id)
            if trace.call_id is not None:
                tool.set_attribute("vapi.call.id", trace.call_id)
            if run.budget is not None:
                tool.set_attribute("vapi.tool.budget_ms", run.budget * 1000)
            if run.outcome in _ERRORS:
                error = run.entry.get("error")
                tool.set_status(otel.Status(otel.StatusCode.ERROR, str(error or run.outcome)))
            tool.end(end_time=ns(run.ended if run.ended is not None else answered))
        for receiver in trace.receivers:
            child = tracer.start_span(
                f"vapi receiver {receiver.name}", context=inside, start_time=ns(receiver.started)
            )
            child.set_attribute("vapi.receiver", receiver.name)
            if receiver.error is not None:
                child.set_status(otel.Status(otel.StatusCode.ERROR, receiver.error))
            child.end(end_time=ns(receiver.ended))
        span.end(end_time=ns(answered))


def _outcome(trace: Trace) -> str:
    if trace.status >= 400:
        return "rejected"
    if trace.duplicate:
        return "duplicate"
    if trace.deadline or trace.failures:
        return "fallback"
    return "answered"


def _attributes(trace: Trace) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "http.response.status_code": trace.status,
        "vapi.outcome": _outcome(trace),
        "vapi.deadline_exceeded": trace.deadline,
        "vapi.duplicate": trace.duplicate,
    }
    if trace.message_type is not None:
        attributes["vapi.message.type"] = trace.message_type
    if trace.call_id is not None:
        attributes["vapi.call.id"] = trace.call_id
    if trace.budget is not None:
        attributes["vapi.budget_ms"] = trace.budget * 1000
    return attributes


def _why(trace: Trace) -> str:
    if trace.rejected is not None:
        return f"{trace.rejected[0]}: {trace.rejected[1]}"
    failure = trace.failures[0]
    return f"{failure.exception}: {failure.message}"
