"""Signals: sender and arguments, receiver isolation, async receivers."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from flask_vapi import VapiBlueprint, current_message, signals
from flask_vapi.payloads import make_assistant_request, make_status_update


def test_signals_carry_app_message_and_blueprint(
    app: Flask, vapi: VapiBlueprint, post: Any, received: Any
) -> None:
    post(make_status_update(status="ended", ended_reason="customer-ended-call"))
    for name in ("message_received", "status_update"):
        sent = received.of(name)[0]
        assert sent["sender"] is app
        assert sent["blueprint"] is vapi
        assert sent["message"].ended_reason == "customer-ended-call"


def test_failing_receiver_does_not_break_the_response_or_other_receivers(
    post: Any, received: Any, caplog: Any
) -> None:
    calls: list[str] = []

    def broken(sender: Any, message: Any, **extra: Any) -> None:
        raise ValueError("receiver bug")

    def healthy(sender: Any, message: Any, **extra: Any) -> None:
        calls.append(message.status)

    with signals.status_update.connected_to(broken), signals.status_update.connected_to(healthy):
        with caplog.at_level(logging.ERROR, logger="flask_vapi"):
            response = post(make_status_update())
    assert response.status_code == 200
    assert response.get_json() == {}
    assert calls == ["in-progress"]
    failure = received.of("handler_error")[0]
    assert failure["handler"] is broken
    assert isinstance(failure["exception"], ValueError)
    assert "receiver bug" in caplog.text and "Traceback" not in caplog.text


def test_failing_receiver_of_a_response_type_keeps_the_answer(
    vapi: VapiBlueprint, post: Any
) -> None:
    @vapi.assistant_request
    def pick(message: Any) -> dict[str, str]:
        return {"assistantId": "a1"}

    def broken(sender: Any, **extra: Any) -> None:
        raise RuntimeError

    with signals.assistant_request.connected_to(broken):
        assert post(make_assistant_request()).get_json() == {"assistantId": "a1"}


def test_failing_handler_error_receiver_is_only_logged(post: Any, caplog: Any) -> None:
    def broken(sender: Any, **extra: Any) -> None:
        raise RuntimeError("first")

    def broken_too(sender: Any, **extra: Any) -> None:
        raise RuntimeError("second")

    with signals.status_update.connected_to(broken):
        with signals.handler_error.connected_to(broken_too):
            assert post(make_status_update()).status_code == 200
    assert "A handler_error receiver failed: RuntimeError: second" in caplog.text


def test_async_receiver_and_current_message(post: Any) -> None:
    seen: list[Any] = []

    async def receiver(sender: Any, message: Any, **extra: Any) -> None:
        seen.append((message.status, current_message.type))

    with signals.status_update.connected_to(receiver):
        post(make_status_update())
    assert seen == [("in-progress", "status-update")]


def test_receiver_for_one_app_only(post: Any, app: Flask) -> None:
    other = Flask("other")
    seen: list[str] = []

    def receiver(sender: Any, message: Any, **extra: Any) -> None:
        seen.append(message.status)

    with signals.status_update.connected_to(receiver, sender=other):
        post(make_status_update())
    assert seen == []
    with signals.status_update.connected_to(receiver, sender=app):
        post(make_status_update())
    assert seen == ["in-progress"]


def test_handler_error_receivers_are_isolated_and_may_be_async(
    vapi: VapiBlueprint, post: Any
) -> None:
    seen: list[Any] = []

    def broken(sender: Any, **extra: Any) -> None:
        raise RuntimeError("status receiver bug")

    def failing_error_receiver(sender: Any, **extra: Any) -> None:
        raise RuntimeError("error receiver bug")

    async def error_receiver(sender: Any, exception: Any, blueprint: Any, **extra: Any) -> None:
        seen.append((str(exception), blueprint))

    with signals.status_update.connected_to(broken):
        with signals.handler_error.connected_to(failing_error_receiver):
            with signals.handler_error.connected_to(error_receiver):
                assert post(make_status_update()).status_code == 200
    assert seen == [("status receiver bug", vapi)]
