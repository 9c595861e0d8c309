"""Late and background tool results are posted into the live call (Live Call Control)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from flask import Flask

from flask_vapi import ToolResult, VapiBlueprint, signals
from flask_vapi.payloads import make_end_of_call_report, make_tool_calls

from .control_server import ControlServer, serve

PATIENCE = 10.0
CALL_ID = "call-0001"


@pytest.fixture
def control() -> Iterator[ControlServer]:
    yield from serve()


class Outcomes:
    """The delivery signals of one blueprint, waited for without sleeping blindly."""

    def __init__(self, vapi: VapiBlueprint) -> None:
        self.delivered: list[dict[str, Any]] = []
        self.undelivered: list[dict[str, Any]] = []
        self.event = threading.Event()
        self.vapi = vapi

    def receiver(self, into: list[dict[str, Any]]) -> Callable[..., None]:
        def record(sender: Any, **extra: Any) -> None:
            if extra["blueprint"] is self.vapi:
                into.append(extra)
                self.event.set()

        return record

    def wait(self) -> None:
        assert self.event.wait(PATIENCE), "no delivery outcome was signalled"


@pytest.fixture
def outcomes(vapi: VapiBlueprint) -> Iterator[Outcomes]:
    found = Outcomes(vapi)
    delivered, undelivered = found.receiver(found.delivered), found.receiver(found.undelivered)
    signals.late_result_delivered.connect(delivered)
    signals.late_result_undelivered.connect(undelivered)
    yield found
    signals.late_result_delivered.disconnect(delivered)
    signals.late_result_undelivered.disconnect(undelivered)


def tool_calls(control_url: str | None, *calls: Any) -> dict[str, Any]:
    message = make_tool_calls(*calls)
    message["call"]["id"] = CALL_ID
    if control_url is None:
        message["call"].pop("monitor", None)
    else:
        message["call"]["monitor"] = {"controlUrl": control_url, "listenUrl": "wss://x/listen"}
    return message


@pytest.fixture
def post(make_app: Callable[..., Flask], vapi: VapiBlueprint) -> Callable[..., Any]:
    apps: dict[str, Flask] = {}

    def send(message: dict[str, Any], **config: Any) -> Any:
        app = apps.get("app") or apps.setdefault("app", make_app(vapi, **config))
        response = app.test_client().post(
            "/vapi/webhook",
            json={"message": message},
            headers={"X-Vapi-Secret": app.config["VAPI_SECRET"]},
        )
        assert response.status_code == 200
        return response.get_json()

    return send


def register_lookup(vapi: VapiBlueprint, **options: Any) -> threading.Event:
    release = threading.Event()

    @vapi.tool("lookupOrder", **options)
    def lookup(order: str) -> str:
        release.wait(PATIENCE)
        return f"Order {order} ships tomorrow."

    return release


def test_a_background_tool_is_answered_at_once_and_its_result_posted_into_the_call(
    vapi: VapiBlueprint, post: Any, control: ControlServer, outcomes: Outcomes
) -> None:
    from flask_vapi.background import control as live

    release = register_lookup(vapi, background=True)
    answer = post(tool_calls(control.url, ("lookupOrder", {"order": "42"}, "call_1")))
    assert answer == {
        "results": [
            {
                "toolCallId": "call_1",
                "name": "lookupOrder",
                "result": "The tool 'lookupOrder' started; its result will follow.",
            }
        ]
    }
    assert control.received == []
    release.set()
    (request,) = control.wait_for(1)
    content = live.format_late_result(
        "lookupOrder", "call_1", {"result": "Order 42 ships tomorrow."}
    )
    assert request.json() == {
        "type": "add-message",
        "message": {"role": "system", "content": content},
        "triggerResponseEnabled": True,
    }
    assert "lookupOrder" in content and "call_1" in content and "Order 42 ships" in content
    assert request.path == "/call-0001/control"
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    outcomes.wait()
    assert outcomes.delivered[0]["attempts"] == 1
    assert outcomes.delivered[0]["tool_call"].id == "call_1"


def test_the_control_token_is_sent_as_a_bearer(
    vapi: VapiBlueprint, post: Any, control: ControlServer, outcomes: Outcomes
) -> None:
    release = register_lookup(vapi, background=True)
    release.set()
    post(
        tool_calls(control.url, ("lookupOrder", {"order": "7"}, "c")),
        VAPI_CONTROL_TOKEN="org-public-key-1234",
    )
    (request,) = control.wait_for(1)
    assert request.headers["authorization"] == "Bearer org-public-key-1234"


def test_a_503_is_retried(
    vapi: VapiBlueprint, post: Any, control: ControlServer, outcomes: Outcomes
) -> None:
    control.statuses = [503]
    register_lookup(vapi, background=True).set()
    post(tool_calls(control.url, ("lookupOrder", {"order": "7"}, "c")))
    first, second = control.wait_for(2)
    assert first.body == second.body
    outcomes.wait()
    assert outcomes.delivered[0]["attempts"] == 2


def test_a_late_synchronous_result_is_delivered_with_deliver_late(
    vapi: VapiBlueprint, post: Any, control: ControlServer, outcomes: Outcomes
) -> None:
    release = register_lookup(
        vapi, timeout=0.2, on_timeout="Still searching, one moment.", deliver_late=True
    )
    answer = post(tool_calls(control.url, ("lookupOrder", {"order": "9"}, "s1")))
    assert answer["results"][0]["result"] == "Still searching, one moment."
    release.set()
    (request,) = control.wait_for(1)
    assert "Order 9 ships tomorrow." in request.json()["message"]["content"]


def test_a_result_in_time_is_not_posted(
    vapi: VapiBlueprint, post: Any, control: ControlServer
) -> None:
    register_lookup(vapi, deliver_late=True).set()
    answer = post(tool_calls(control.url, ("lookupOrder", {"order": "1"}, "s1")))
    assert answer["results"][0]["result"] == "Order 1 ships tomorrow."
    assert control.received == []


def test_nothing_is_sent_for_a_call_that_ended(
    vapi: VapiBlueprint, post: Any, control: ControlServer, outcomes: Outcomes
) -> None:
    release = register_lookup(vapi, background=True)
    post(tool_calls(control.url, ("lookupOrder", {"order": "3"}, "h")))
    report = make_end_of_call_report()
    report["call"]["id"] = CALL_ID
    post(report)
    release.set()
    outcomes.wait()
    assert outcomes.undelivered[0]["reason"] == "the call has ended"
    assert control.received == []


def test_no_retry_is_sent_once_the_call_ended(
    vapi: VapiBlueprint, post: Any, control: ControlServer, outcomes: Outcomes
) -> None:
    control.statuses = [503]  # the first try fails; the retry waits 0.5 s
    register_lookup(vapi, background=True).set()
    post(tool_calls(control.url, ("lookupOrder", {"order": "4"}, "r")))
    control.wait_for(1)
    report = make_end_of_call_report()
    report["call"]["id"] = CALL_ID
    post(report)  # during the backoff
    outcomes.wait()
    assert outcomes.undelivered[0]["reason"] == "the call has ended"
    assert len(control.received) == 1


def test_without_a_control_url_the_result_is_signalled_undelivered(
    vapi: VapiBlueprint, post: Any, outcomes: Outcomes
) -> None:
    register_lookup(vapi, background=True).set()
    post(tool_calls(None, ("lookupOrder", {"order": "3"}, "n")))
    outcomes.wait()
    assert outcomes.undelivered[0]["reason"] == "the message has no call.monitor.controlUrl"


def test_a_formatter_of_ones_own_writes_the_content(
    make_app: Callable[..., Flask], control: ControlServer
) -> None:
    def formatter(tool: str, tool_call_id: str | None, entry: dict[str, Any]) -> str:
        return f"[{tool}/{tool_call_id}] {entry.get('result', entry.get('error'))}"

    vapi = VapiBlueprint(late_result_formatter=formatter)

    @vapi.tool(background=True)
    def lookup() -> ToolResult:
        return ToolResult(error="Order not found.")

    app = make_app(vapi)
    app.test_client().post(
        "/vapi/webhook",
        json={"message": tool_calls(control.url, ("lookup", {}, "f1"))},
        headers={"X-Vapi-Secret": app.config["VAPI_SECRET"]},
    )
    (request,) = control.wait_for(1)
    assert request.json()["message"]["content"] == "[lookup/f1] Order not found."


def test_no_log_line_holds_the_control_url_or_the_token(
    vapi: VapiBlueprint,
    post: Any,
    control: ControlServer,
    outcomes: Outcomes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    control.statuses = [503, 503, 503]
    register_lookup(vapi, background=True).set()
    with caplog.at_level(logging.DEBUG, "flask_vapi"):
        post(
            tool_calls(control.url, ("lookupOrder", {"order": "3"}, "l")),
            VAPI_CONTROL_TOKEN="org-public-key-5678",
        )
        outcomes.wait()
    assert outcomes.undelivered and "503" in outcomes.undelivered[0]["reason"]
    text = caplog.text
    assert text  # the give-up was logged
    assert control.url not in text and f"127.0.0.1:{control.port}" not in text
    assert "org-public-key-5678" not in text


def test_a_full_pool_answers_a_background_tool_busy(
    vapi: VapiBlueprint, post: Any, control: ControlServer
) -> None:
    release = register_lookup(vapi, background=True)
    first = post(tool_calls(control.url, ("lookupOrder", {"order": "1"}, "a")), VAPI_MAX_WORKERS=1)
    second = post(tool_calls(control.url, ("lookupOrder", {"order": "2"}, "b")))
    assert "started" in first["results"][0]["result"]
    assert second["results"][0]["error"] == "The tool 'lookupOrder' is busy; try again in a moment."
    release.set()
    control.wait_for(1)
