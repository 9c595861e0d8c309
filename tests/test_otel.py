"""OpenTelemetry: the spans of a webhook, tool calls and receivers, nested under Flask's span."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

from flask_vapi import VapiBlueprint, payloads
from flask_vapi.testing import VapiClient
from tests.conftest import SECRET


@pytest.fixture
def provider() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    """A global SDK tracer provider for the test, then none again (the default no-op)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace._TRACER_PROVIDER_SET_ONCE = Once()  # as OpenTelemetry's own tests reset it
    trace._TRACER_PROVIDER = None
    trace.set_tracer_provider(provider)
    try:
        yield provider, exporter
    finally:
        provider.shutdown()
        trace._TRACER_PROVIDER_SET_ONCE = Once()
        trace._TRACER_PROVIDER = None


def make_app() -> Flask:
    vapi = VapiBlueprint()

    @vapi.tool("bookAppointment")
    def book(date: str) -> str:
        return f"Booked for {date}."

    @vapi.tool("slowLookup", timeout=0.2)
    def slow() -> str:
        time.sleep(0.5)
        return "late"

    @vapi.on("status-update")
    def on_status(message: Any) -> None:
        if message.status == "ended":
            raise ValueError("receiver failed")

    app = Flask("traced")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET)
    app.register_blueprint(vapi)
    app.test_client_class = VapiClient
    return app


def by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {span.name: span for span in spans}


def test_a_webhook_span_with_a_child_per_tool_call(
    provider: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    _, exporter = provider
    message = payloads.make_tool_calls(
        ("bookAppointment", {"date": "2026-12-08"}, "tc-1"), ("slowLookup", {}, "tc-2")
    )
    make_app().test_client().send_message(message)
    spans = by_name(exporter.get_finished_spans())
    webhook, book, slow = (
        spans["vapi tool-calls"],
        spans["vapi tool bookAppointment"],
        spans["vapi tool slowLookup"],
    )
    assert webhook.attributes is not None and book.attributes is not None
    assert webhook.attributes["vapi.message.type"] == "tool-calls"
    assert webhook.attributes["vapi.call.id"] == message["call"]["id"]
    assert webhook.attributes["vapi.outcome"] == "fallback"
    assert webhook.attributes["vapi.deadline_exceeded"] is True
    assert webhook.attributes["http.response.status_code"] == 200
    assert book.attributes["vapi.tool.name"] == "bookAppointment"
    assert book.attributes["vapi.tool_call.id"] == "tc-1"
    assert book.attributes["vapi.tool.outcome"] == "ok"
    assert slow.attributes is not None and slow.attributes["vapi.tool.outcome"] == "timeout"
    assert slow.status.status_code == trace.StatusCode.ERROR
    for child in (book, slow):
        assert child.parent is not None and child.parent.span_id == webhook.context.span_id
        assert webhook.start_time is not None and webhook.end_time is not None
        assert child.start_time is not None and child.end_time is not None
        assert webhook.start_time <= child.start_time <= child.end_time <= webhook.end_time
    assert [event.name for event in webhook.events] == ["exception"]
    assert "2026-12-08" not in str(book.attributes)  # no arguments or results on spans


def test_receivers_duplicates_and_rejections(
    provider: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    _, exporter = provider
    client = make_app().test_client()
    ended = payloads.make_status_update(status="ended")
    client.send_message(ended)
    client.send_message(ended)
    client.send_message(ended, sign=False)
    spans = exporter.get_finished_spans()
    webhooks = [span for span in spans if span.name == "vapi status-update"]
    assert [s.attributes["vapi.outcome"] for s in webhooks if s.attributes] == [
        "fallback",
        "duplicate",
    ]
    assert [s.attributes["vapi.duplicate"] for s in webhooks if s.attributes] == [False, True]
    (receiver,) = [span for span in spans if span.name.startswith("vapi receiver")]
    assert receiver.status.status_code == trace.StatusCode.ERROR
    assert receiver.parent is not None and receiver.parent.span_id == webhooks[0].context.span_id
    (rejected,) = [span for span in spans if span.name == "vapi webhook"]
    assert rejected.attributes is not None
    assert rejected.attributes["vapi.outcome"] == "rejected"
    assert rejected.attributes["http.response.status_code"] == 401


def test_it_nests_under_the_flask_instrumentation_server_span(
    provider: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    tracer_provider, exporter = provider
    app = make_app()
    FlaskInstrumentor().instrument_app(app, tracer_provider=tracer_provider)
    try:
        app.test_client().send_message(payloads.make_assistant_request())
    finally:
        FlaskInstrumentor().uninstrument_app(app)
    spans = exporter.get_finished_spans()
    (server,) = [span for span in spans if span.kind == trace.SpanKind.SERVER]
    (webhook,) = [span for span in spans if span.name == "vapi assistant-request"]
    assert webhook.parent is not None and webhook.parent.span_id == server.context.span_id
    assert webhook.context.trace_id == server.context.trace_id


def test_without_a_tracer_provider_no_trace_is_made() -> None:
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    app = make_app()
    observers = app.extensions["vapi_observers"]["vapi"]
    assert observers.others  # OpenTelemetry is installed here ...
    assert observers.active(app) == ()  # ... but nothing observes without a provider


def test_without_opentelemetry_nothing_of_it_is_imported() -> None:
    code = textwrap.dedent(
        f"""
        import sys

        class NoOpenTelemetry:
            def find_spec(self, name, path=None, target=None):
                if name == "opentelemetry" or name.startswith("opentelemetry."):
                    raise ModuleNotFoundError(name)
                return None

        sys.meta_path.insert(0, NoOpenTelemetry())
        from flask import Flask
        from flask_vapi import VapiBlueprint, payloads
        from flask_vapi.testing import VapiClient

        app = Flask("plain")
        app.config.update(TESTING=True, VAPI_SECRET={SECRET!r})
        app.register_blueprint(VapiBlueprint())
        app.test_client_class = VapiClient
        assert app.test_client().send_message(payloads.make_status_update()).status_code == 200
        assert app.extensions["vapi_observers"]["vapi"].others == ()
        print(sorted(name for name in sys.modules if name.startswith("opentelemetry")))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_a_provider_set_after_startup_is_seen_within_the_recheck(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flask_vapi import otel

    app = make_app()  # no provider yet
    client = app.test_client()
    client.send_message(payloads.make_status_update())
    clock = [time.monotonic()]
    monkeypatch.setattr(otel.time, "monotonic", lambda: clock[0])
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    trace.set_tracer_provider(provider)
    try:
        clock[0] += otel.RECHECK + 0.01
        client.send_message(payloads.make_status_update())
        names = {span.name for span in exporter.get_finished_spans()}
        assert "vapi status-update" in names
    finally:
        provider.shutdown()
        trace._TRACER_PROVIDER_SET_ONCE = Once()
        trace._TRACER_PROVIDER = None
