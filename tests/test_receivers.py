"""``@vapi.on`` receivers, the generic ``responder()``, and what registration refuses."""

from __future__ import annotations

import asyncio
import functools
import gc
import importlib.util
from typing import Any, Callable

import pytest
from flask import Flask

from flask_vapi import ConfigurationError, VapiBlueprint, signals
from flask_vapi.payloads import make_end_of_call_report, make_status_update, make_transcript

from .conftest import HEADERS, SECRET


def create_app(blueprint: VapiBlueprint, seen: list[Any]) -> Flask:
    """An app factory that subscribes with a receiver defined inside it (a local function)."""

    @blueprint.on("end-of-call-report")
    def store(message: Any) -> None:
        seen.append(message.ended_reason)

    app = Flask("factory_app")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET)
    app.register_blueprint(blueprint)
    return app


def post(app: Flask, message: dict[str, Any], path: str = "/vapi/webhook") -> Any:
    return app.test_client().post(path, json={"message": message}, headers=HEADERS)


def test_a_receiver_defined_in_an_app_factory_survives_garbage_collection() -> None:
    seen: list[Any] = []
    app = create_app(VapiBlueprint(), seen)
    gc.collect()
    assert post(app, make_end_of_call_report(ended_reason="customer-ended-call")).status_code == 200
    assert seen == ["customer-ended-call"]


def test_a_weakly_connected_signal_receiver_is_collected_which_on_avoids() -> None:
    """The rule the README explains: blinker holds ``connect``ed receivers weakly."""
    seen: list[Any] = []
    app = create_app(VapiBlueprint(), [])

    def subscribe() -> None:
        def local(sender: Any, message: Any, **extra: Any) -> None:
            seen.append(message)

        signals.end_of_call_report.connect(local, sender=app)

    subscribe()
    gc.collect()
    post(app, make_end_of_call_report())
    assert seen == []


def test_receivers_hear_only_their_blueprint() -> None:
    main, sales = VapiBlueprint(), VapiBlueprint("sales", url_prefix="/sales", config_prefix="S_")
    heard: list[str] = []
    main.on("status-update")(lambda message: heard.append("main"))
    sales.on("status-update")(lambda message: heard.append("sales"))
    app = Flask("two")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET, S_SECRET=SECRET)
    app.register_blueprint(main)
    app.register_blueprint(sales)
    post(app, make_status_update(), "/sales/webhook")
    assert heard == ["sales"]


def test_several_types_star_and_both_transcript_spellings(vapi: VapiBlueprint) -> None:
    heard: list[tuple[str, str]] = []
    vapi.on("status-update", "transcript")(lambda m: heard.append(("typed", m.type)))
    vapi.on("*")(lambda m: heard.append(("all", m.type)))
    app = Flask("t")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET)
    app.register_blueprint(vapi)
    post(app, make_status_update())
    final = make_transcript()
    final["type"] = 'transcript[transcriptType="final"]'
    post(app, final)
    post(app, {"type": "brand-new.event"})
    post(app, make_end_of_call_report())
    assert heard == [
        ("typed", "status-update"),
        ("all", "status-update"),
        ("typed", 'transcript[transcriptType="final"]'),
        ("all", 'transcript[transcriptType="final"]'),
        ("all", "brand-new.event"),
        ("all", "end-of-call-report"),
    ]


def test_a_failing_receiver_is_isolated_and_signalled(vapi: VapiBlueprint) -> None:
    heard: list[str] = []

    @vapi.on("status-update")
    def broken(message: Any) -> None:
        raise RuntimeError("receiver bug")

    vapi.on("status-update")(lambda message: heard.append("second"))
    app = Flask("t")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET)
    app.register_blueprint(vapi)
    failures: list[dict[str, Any]] = []

    def on_error(sender: Any, **extra: Any) -> None:
        failures.append({"sender": sender, **extra})

    with signals.handler_error.connected_to(on_error, sender=app):
        response = post(app, make_status_update())
    assert response.status_code == 200 and response.get_json() == {}
    assert heard == ["second"]
    assert [f["handler"] for f in failures] == [broken]
    assert failures[0]["sender"] is app
    assert str(failures[0]["exception"]) == "receiver bug"


def test_partials_callable_objects_and_async_receivers(vapi: VapiBlueprint) -> None:
    heard: list[str] = []

    def tagged(tag: str, message: Any) -> None:
        heard.append(tag)

    class Receiver:
        def __call__(self, message: Any) -> None:
            heard.append("object")

    class AsyncReceiver:
        async def __call__(self, message: Any) -> None:
            await asyncio.sleep(0)
            heard.append("async object")

    async def coroutine(message: Any) -> None:
        heard.append("async")

    for receiver in (functools.partial(tagged, "partial"), Receiver(), AsyncReceiver(), coroutine):
        vapi.on("hang")(receiver)
    app = Flask("t")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET)
    app.register_blueprint(vapi)
    assert post(app, {"type": "hang"}).status_code == 200
    assert heard == ["partial", "object", "async object", "async"]


@pytest.mark.parametrize(
    ("types", "match"),
    [
        (("end-of-call-reports",), r"did you mean 'end-of-call-report'\?"),
        (("nonsense",), r"'nonsense' is not a Vapi message type"),
        ((), "at least one message type"),
    ],
)
def test_unknown_type_names_fail_at_registration(
    vapi: VapiBlueprint, types: tuple[str, ...], match: str
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        vapi.on(*types)(lambda message: None)


def test_generic_responder_is_the_named_decorators_mechanism(vapi: VapiBlueprint) -> None:
    vapi.responder("campaign.predial")(lambda message: {"eligible": True})
    with pytest.raises(ConfigurationError, match="already registered"):
        vapi.campaign_predial(lambda message: {"eligible": False})
    with pytest.raises(ConfigurationError, match=r"did you mean 'assistant-request'\?"):
        vapi.responder("assistant-requests")(lambda message: {})
    with pytest.raises(ConfigurationError, match="'status-update' is not a response-bearing"):
        vapi.responder("status-update")(lambda message: {})


def without_asgiref(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == "asgiref" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


async def async_handler(*args: Any, **kwargs: Any) -> Any:
    return {}


class AsyncCallable:
    async def __call__(self, message: Any) -> Any:
        return {}


@pytest.mark.parametrize(
    "register",
    [
        lambda vapi, f: vapi.on("hang")(f),
        lambda vapi, f: vapi.assistant_request(f),
        lambda vapi, f: vapi.tool("lookup")(f),
    ],
    ids=["on", "responder", "tool"],
)
@pytest.mark.parametrize(
    "handler",
    [async_handler, functools.partial(async_handler, 1), AsyncCallable()],
    ids=["function", "partial", "object"],
)
def test_async_handlers_without_the_extra_fail_at_registration(
    monkeypatch: pytest.MonkeyPatch,
    vapi: VapiBlueprint,
    register: Callable[[VapiBlueprint, Any], Any],
    handler: Any,
) -> None:
    without_asgiref(monkeypatch)
    with pytest.raises(ConfigurationError, match=r"flask-vapi\[async\]"):
        register(vapi, handler)


def test_a_non_callable_handler_fails_at_registration(vapi: VapiBlueprint) -> None:
    with pytest.raises(ConfigurationError, match="must be callable"):
        vapi.on("hang")("not a function")  # type: ignore[arg-type]


def test_registering_one_blueprint_twice_on_an_app_is_refused(vapi: VapiBlueprint) -> None:
    app = Flask("t")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET)
    app.register_blueprint(vapi)
    with pytest.raises(ConfigurationError, match="already registered"):
        app.register_blueprint(vapi, name="vapi2", url_prefix="/other")
    with pytest.raises(ConfigurationError, match="already registered"):
        app.register_blueprint(vapi)


def test_one_blueprint_serves_several_apps(vapi: VapiBlueprint) -> None:
    """App factories in tests register the same module-level blueprint on each new app."""
    heard: list[Any] = []
    vapi.on("status-update")(lambda message: heard.append(message.status))
    apps = []
    for _ in range(2):
        app = Flask("t")
        app.config.update(TESTING=True, VAPI_SECRET=SECRET)
        app.register_blueprint(vapi)
        apps.append(app)
    for app in apps:
        assert post(app, make_status_update(status="ringing")).status_code == 200
    assert heard == ["ringing", "ringing"]
