"""Budgets and tool deadline options are checked at registration, naming the key."""

from __future__ import annotations

import logging
from typing import Any, Callable

import pytest
from flask import Flask

from flask_vapi import ConfigurationError, ToolResult, VapiBlueprint

#: Vapi's waits (protocol notes, sections 6 and 11) less the documented margins.
DOCUMENTED_BUDGETS = {
    "assistant-request": 6.0,  # Vapi waits 7.5 s, fixed
    "knowledge-base-request": 8.0,  # at most 10 s
    "tool-calls": 18.0,  # the server's timeoutSeconds, 20 s by default, less 2 s
    "function-call": 18.0,
    "transfer-destination-request": 18.0,
    "handoff-destination-request": 18.0,
    "voice-request": 18.0,
    "call.endpointing.request": 18.0,
    "campaign.predial": 18.0,
}


def budgets(make_app: Callable[..., Flask], **config: Any) -> dict[str, Any]:
    vapi = VapiBlueprint()
    app = make_app(vapi, **config)
    return dict(vapi.settings_for(app).budgets)


def test_default_budgets_are_vapis_limits_less_a_margin(make_app: Callable[..., Flask]) -> None:
    assert budgets(make_app) == DOCUMENTED_BUDGETS


def test_the_server_timeout_moves_the_default_but_not_vapis_fixed_waits(
    make_app: Callable[..., Flask],
) -> None:
    found = budgets(make_app, VAPI_SERVER_TIMEOUT=10)
    assert found["tool-calls"] == 8.0
    assert found["assistant-request"] == 6.0 and found["knowledge-base-request"] == 8.0
    assert budgets(make_app, VAPI_SERVER_TIMEOUT=3)["tool-calls"] == 1.5  # half, below 4 s


def test_deadlines_override_per_type_and_none_disables(make_app: Callable[..., Flask]) -> None:
    found = budgets(make_app, VAPI_DEADLINES={"assistant-request": 5, "tool-calls": None})
    assert found["assistant-request"] == 5.0 and found["tool-calls"] is None
    assert found["campaign.predial"] == 18.0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"VAPI_DEADLINES": {"status-update": 1}}, "VAPI_DEADLINES has no type Vapi waits"),
        ({"VAPI_DEADLINES": {"tool-call": 1}}, "'tool-call'"),
        ({"VAPI_DEADLINES": {"tool-calls": 0}}, "VAPI_DEADLINES['tool-calls'] must be a positive"),
        ({"VAPI_DEADLINES": {"tool-calls": -1}}, "must be a positive number"),
        ({"VAPI_DEADLINES": {"tool-calls": True}}, "must be a positive number"),
        ({"VAPI_DEADLINES": {"tool-calls": "5"}}, "must be a positive number"),
        ({"VAPI_DEADLINES": {"tool-calls": float("nan")}}, "must be a positive number"),
        ({"VAPI_DEADLINES": [1]}, "VAPI_DEADLINES must be a dict"),
        (
            {"VAPI_DEADLINES": {"assistant-request": 7.5}},
            "VAPI_DEADLINES['assistant-request'] is 7.5 s, but Vapi waits 7.5 s",
        ),
        (
            {"VAPI_DEADLINES": {"knowledge-base-request": 12}},
            "but Vapi waits 10 s",
        ),
        (
            {"VAPI_DEADLINES": {"tool-calls": 25}},
            "is 25 s, but VAPI_SERVER_TIMEOUT is 20 s",
        ),
        ({"VAPI_SERVER_TIMEOUT": 0.5}, "VAPI_SERVER_TIMEOUT must be from 1 to 300"),
        ({"VAPI_SERVER_TIMEOUT": 301}, "VAPI_SERVER_TIMEOUT must be from 1 to 300"),
        ({"VAPI_SERVER_TIMEOUT": "20"}, "VAPI_SERVER_TIMEOUT must be a number"),
        ({"VAPI_MAX_WORKERS": 0}, "VAPI_MAX_WORKERS must be a positive integer"),
        ({"VAPI_MAX_WORKERS": 2.5}, "VAPI_MAX_WORKERS must be a positive integer"),
        ({"VAPI_CONTROL_TOKEN": ""}, "VAPI_CONTROL_TOKEN must not be empty"),
        ({"VAPI_CONTROL_TOKEN": 5}, "VAPI_CONTROL_TOKEN must be a string"),
    ],
)
def test_wrong_values_fail_at_startup_naming_the_key(
    make_app: Callable[..., Flask], config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        make_app(VapiBlueprint(), **config)
    assert message in str(raised.value)


def test_the_control_token_never_reaches_a_log_line(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from flask_vapi.logs import logger

    make_app(VapiBlueprint(), VAPI_CONTROL_TOKEN="ctl-token-123456")
    with caplog.at_level(logging.INFO, "flask_vapi"):
        logger.warning("posting with ctl-token-123456")
    assert "ctl-token-123456" not in caplog.text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": 0}, "timeout must be a positive number of seconds, not 0"),
        ({"timeout": -1.0}, "timeout must be a positive number"),
        ({"timeout": "4"}, "timeout must be a positive number"),
        ({"timeout": True}, "timeout must be a positive number"),
        ({"timeout": float("inf")}, "timeout must be a positive number"),
        ({"on_timeout": 5}, "on_timeout must be a str or a ToolResult, not int"),
        ({"on_timeout": ToolResult(metadata={"x": object()})}, "on_timeout is not a valid"),
        ({"background": True, "deliver_late": True}, "deliver_late=True is for tools"),
        ({"background": True, "timeout": 2.0}, "background=True is answered at once"),
    ],
)
def test_tool_deadline_options_are_checked_at_registration(
    options: dict[str, Any], message: str
) -> None:
    vapi = VapiBlueprint()
    with pytest.raises(ConfigurationError) as raised:
        vapi.tool("lookup", **options)(lambda: "x")
    assert message in str(raised.value) and "'lookup'" in str(raised.value)


def test_a_tool_timeout_vapi_would_not_wait_for_fails_at_registration() -> None:
    vapi = VapiBlueprint()
    vapi.tool("search", timeout=25.0)(lambda: "x")
    app = Flask("t")
    app.config.update(VAPI_SECRET="s", VAPI_DEADLINES={"tool-calls": None})
    with pytest.raises(ConfigurationError) as raised:
        app.register_blueprint(vapi)
    text = str(raised.value)
    assert "'search' has timeout=25 s" in text and "VAPI_SERVER_TIMEOUT is 20 s" in text


def test_a_tool_timeout_past_the_budget_is_said_at_registration(caplog: Any) -> None:
    vapi = VapiBlueprint()
    vapi.tool("search", timeout=12.0)(lambda: "x")
    app = Flask("t")
    app.config.update(VAPI_SECRET="s", VAPI_DEADLINES={"tool-calls": 5.0})
    with caplog.at_level(logging.WARNING, logger="flask_vapi"):
        app.register_blueprint(vapi)
    assert [r.getMessage() for r in caplog.records] == [
        "The tool 'search' has timeout=12 s, longer than the tool-calls budget "
        "(5 s, VAPI_DEADLINES): the budget applies."
    ]
