"""Tool handlers: one result per call, in order, errors as strings, context objects, schemas."""

from __future__ import annotations

import datetime
import decimal
import logging
from typing import Any, Callable

import pytest
from flask import Flask
from marshmallow import Schema, fields, validate

from flask_vapi import (
    ToolError,
    ToolResult,
    VapiBlueprint,
    current_message,
    current_tool_call,
)
from flask_vapi.errors import ConfigurationError
from flask_vapi.payloads import make_function_call, make_tool_calls, tool_call_id


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"results"}
    items: list[dict[str, Any]] = body["results"]
    return items


def test_one_result_per_call_in_order_with_id_and_name(
    vapi: VapiBlueprint, make_app: Callable[..., Flask], post: Any, response_validator: Any
) -> None:
    @vapi.tool("checkAvailability")
    def check(date: str) -> str:
        return f"free on {date}"

    @vapi.tool
    def bookAppointment(date: str, time: str) -> dict[str, Any]:
        return {"booked": True, "at": f"{date} {time}"}

    response = post(
        make_tool_calls(
            ("bookAppointment", {"date": "2026-12-01", "time": "10:00"}),
            ("checkAvailability", {"date": "2026-12-02"}),
            ("bookAppointment", {"date": "2026-12-03", "time": "11:00"}),
        )
    )
    items = results(response)
    assert [(r["toolCallId"], r["name"]) for r in items] == [
        (tool_call_id(0), "bookAppointment"),
        (tool_call_id(1), "checkAvailability"),
        (tool_call_id(2), "bookAppointment"),
    ]
    assert items[0]["result"] == '{"booked":true,"at":"2026-12-01 10:00"}'
    assert items[1]["result"] == "free on 2026-12-02"
    assert "\n" not in items[2]["result"]
    response_validator("ServerMessageResponseToolCalls", response.get_json())


def test_string_arguments_are_parsed(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.tool("echo")
    def echo(**arguments: Any) -> Any:
        return arguments

    items = results(post(make_tool_calls(("echo", {"a": [1, 2]}), arguments_as="string")))
    assert items[0]["result"] == '{"a":[1,2]}'


def test_results_encode_common_python_types(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.tool("typed")
    def typed() -> Any:
        return {"when": datetime.date(2026, 12, 1), "price": decimal.Decimal("9.50"), "n": None}

    @vapi.tool("nothing")
    def nothing() -> None:
        return None

    items = results(post(make_tool_calls(("typed", {}), ("nothing", {}))))
    assert items[0]["result"] == '{"when":"2026-12-01","price":"9.50","n":null}'
    assert items[1]["result"] == ""


def test_exception_becomes_generic_error_without_details(
    vapi: VapiBlueprint, post: Any, received: Any, caplog: Any
) -> None:
    @vapi.tool("explode")
    def explode() -> str:
        raise RuntimeError("db password=hunter2 leaked")

    @vapi.tool("fine")
    def fine() -> str:
        return "ok"

    with caplog.at_level(logging.ERROR, logger="flask_vapi"):
        items = results(post(make_tool_calls(("explode", {}), ("fine", {}))))
    assert items[0]["error"] == "The tool 'explode' failed with an internal error."
    assert "result" not in items[0]
    assert items[1]["result"] == "ok"
    failure = received.of("handler_error")[0]
    assert isinstance(failure["exception"], RuntimeError)
    assert failure["handler"] is explode
    assert "RuntimeError" in caplog.text
    assert "Traceback" not in caplog.text


def test_tool_error_text_reaches_the_model(vapi: VapiBlueprint, post: Any, received: Any) -> None:
    @vapi.tool("book")
    def book() -> str:
        raise ToolError("That slot is taken. The next free slot is 11:00.")

    items = results(post(make_tool_calls(("book", {}))))
    assert items[0]["error"] == "That slot is taken. The next free slot is 11:00."
    assert received.of("handler_error") == []


def test_unknown_tool_is_an_error_result(post: Any) -> None:
    items = results(post(make_tool_calls(("missing", {"a": 1}))))
    assert items == [
        {
            "toolCallId": tool_call_id(0),
            "name": "missing",
            "error": "No tool named 'missing' is available.",
        }
    ]


def test_tool_result_adds_message_and_metadata(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.tool("a")
    def a() -> ToolResult:
        return ToolResult({"id": 7}, message="Booked!", metadata={"bookingId": 7})

    @vapi.tool("b")
    def b() -> ToolResult:
        return ToolResult(error="No slots", message={"type": "request-failed", "content": "Sorry"})

    first, second = results(post(make_tool_calls(("a", {}), ("b", {}))))
    assert first["result"] == '{"id":7}'
    assert first["message"] == {"type": "request-complete", "content": "Booked!"}
    assert first["metadata"] == {"bookingId": 7}
    assert second == {
        "toolCallId": tool_call_id(1),
        "name": "b",
        "error": "No slots",
        "message": {"type": "request-failed", "content": "Sorry"},
    }


def test_context_objects_inside_a_tool(vapi: VapiBlueprint, post: Any) -> None:
    seen: list[Any] = []

    @vapi.tool("who")
    def who(message: str) -> str:  # an argument named "message" is still just an argument
        seen.append((message, current_tool_call.id, current_message.type))
        return "ok"

    results(post(make_tool_calls(("who", {"message": "hello"}))))
    assert seen == [("hello", tool_call_id(0), "tool-calls")]


def test_context_objects_are_unbound_outside_dispatch() -> None:
    with pytest.raises(RuntimeError, match="current_tool_call"):
        _ = current_tool_call.id
    with pytest.raises(RuntimeError, match="current_message"):
        _ = current_message.type


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({}, "Invalid arguments for tool 'book': missing 'date', 'time'."),
        (
            {"date": "x", "time": "y", "extra": 1},
            "Invalid arguments for tool 'book': unexpected 'extra'.",
        ),
        ([1, 2], "Invalid arguments for tool 'book': expected a JSON object."),
        ("not json", "Invalid arguments for tool 'book': expected a JSON object."),
    ],
)
def test_arguments_not_matching_the_handler(
    vapi: VapiBlueprint, post: Any, arguments: Any, error: str
) -> None:
    @vapi.tool("book")
    def book(date: str, time: str, note: str = "") -> str:
        return "booked"

    message = make_tool_calls(("book", {}))
    message["toolCallList"][0]["function"]["arguments"] = arguments
    assert results(post(message))[0]["error"] == error


class BookingArgs(Schema):
    date = fields.Date(required=True)
    party = fields.Integer(load_default=1, validate=validate.Range(min=1, max=4))


def test_schema_validates_and_converts_arguments(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.tool("book", schema=BookingArgs, description="Book a table.")
    def book(date: datetime.date, party: int) -> str:
        return f"{date.isoformat()} for {party}"

    good, bad = results(
        post(make_tool_calls(("book", {"date": "2026-12-01"}), ("book", {"party": 9})))
    )
    assert good["result"] == "2026-12-01 for 1"
    assert bad["error"].startswith("Invalid arguments for tool 'book': ")
    assert "date: Missing data for required field." in bad["error"]
    assert "party: Must be greater than or equal to 1 and less than or equal to 4." in bad["error"]
    assert vapi.dispatcher.tools["book"].description == "Book a table."


def test_description_defaults_to_docstring(vapi: VapiBlueprint) -> None:
    @vapi.tool("lookup")
    def lookup() -> str:
        """Look up a patient by phone number."""
        return ""

    assert vapi.dispatcher.tools["lookup"].description == "Look up a patient by phone number."


def test_async_tool(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.tool("later")
    async def later(n: int) -> str:
        return f"n={n} call={current_tool_call.id}"

    assert results(post(make_tool_calls(("later", {"n": 2}))))[0]["result"] == (
        f"n=2 call={tool_call_id(0)}"
    )


def test_second_handler_for_a_tool_raises(vapi: VapiBlueprint) -> None:
    @vapi.tool("dup")
    def first() -> None: ...

    with pytest.raises(ConfigurationError, match="tool 'dup' is already registered"):

        @vapi.tool("dup")
        def second() -> None: ...


def test_positional_only_handler_is_refused(vapi: VapiBlueprint) -> None:
    def handler(a: int, /) -> None: ...

    with pytest.raises(TypeError, match="positional-only"):
        vapi.tool("p")(handler)


def test_legacy_function_call(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.tool("sendEmail")
    def send_email(emailAddress: str, message: str) -> dict[str, str]:
        return {"sent": emailAddress}

    response = post(
        make_function_call(name="sendEmail", parameters={"emailAddress": "a@b.c", "message": "hi"})
    )
    assert response.status_code == 200
    assert response.get_json() == {"result": '{"sent":"a@b.c"}'}
    failed = post(make_function_call(name="nope", parameters={}))
    assert failed.get_json() == {"error": "No tool named 'nope' is available."}


def test_unserialisable_result_is_an_error(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.tool("weird")
    def weird() -> object:
        return object()

    assert "internal error" in results(post(make_tool_calls(("weird", {}))))[0]["error"]


def test_dispatch_without_http(vapi: VapiBlueprint, make_app: Callable[..., Flask]) -> None:
    @vapi.tool("ping")
    def ping() -> str:
        return "pong"

    app = make_app(vapi)
    with app.app_context():
        reply = vapi.dispatcher.receive(
            app, {"message": make_tool_calls(("ping", {}))}, vapi.settings_for(app)
        )
    assert reply.content_type == "application/json"
    assert b'"result":"pong"' in reply.body  # type: ignore[operator]
