"""Tool handlers: one result per call, in order, errors as strings, context objects, schemas."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import logging
import uuid
from typing import Any, Callable

import flask
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
from flask_vapi.errors import ConfigurationError, InvalidResponse
from flask_vapi.payloads import make_function_call, tool_call_id
from flask_vapi.tools import InvalidToolResult

from .ids import make_tool_calls


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

    with pytest.raises(ConfigurationError, match="positional-only parameter 'a' of tool 'p'"):
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


# -- what a tool may return ---------------------------------------------------------------------


class Size(enum.Enum):
    SMALL = "small"


@dataclasses.dataclass
class Slot:
    day: datetime.date
    free: bool


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("as is\u00e9", "as is\u00e9"),
        (None, ""),
        (True, "true"),
        (3, "3"),
        (2.5, "2.5"),
        ([1, "a", None], '[1,"a",null]'),
        ({"a": {"b": [True]}}, '{"a":{"b":[true]}}'),
        (datetime.datetime(2026, 9, 8, 10, 30), '"2026-09-08T10:30:00"'),
        (datetime.date(2026, 9, 8), '"2026-09-08"'),
        (datetime.time(10, 30), '"10:30:00"'),
        (decimal.Decimal("9.50"), '"9.50"'),
        (
            uuid.UUID("9b2f4c1e-5d6a-4e8b-9c3d-2a1f0e7b6c5d"),
            '"9b2f4c1e-5d6a-4e8b-9c3d-2a1f0e7b6c5d"',
        ),
        (Size.SMALL, '"small"'),
        (Slot(datetime.date(2026, 9, 8), True), '{"day":"2026-09-08","free":true}'),
        ({"only"}, '["only"]'),
        ((1, 2), "[1,2]"),
        (ToolResult(), ""),
    ],
)
def test_what_a_tool_may_return(vapi: VapiBlueprint, post: Any, value: Any, text: str) -> None:
    vapi.tool("give")(lambda: value)
    assert results(post(make_tool_calls(("give", {}))))[0]["result"] == text


def test_lone_surrogates_in_a_result_are_sent_as_replacement_characters(
    vapi: VapiBlueprint, post: Any
) -> None:
    vapi.tool("cut")(lambda: "cut \ud83d mid-emoji")
    vapi.tool("failed")(lambda: ToolResult(error="no \ud800"))
    cut, failed = results(post(make_tool_calls(("cut", {}), ("failed", {}))))
    assert cut["result"] == "cut \ufffd mid-emoji"
    assert failed["error"] == "no \ufffd"


def test_a_failed_result_speaks_request_failed(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.tool("ok")
    def ok() -> ToolResult:
        return ToolResult("done", message="All set.")

    @vapi.tool("no")
    def no() -> ToolResult:
        return ToolResult(error="No slots", message="Sorry, nothing is free.")

    done, failed = results(post(make_tool_calls(("ok", {}), ("no", {}))))
    assert done["message"] == {"type": "request-complete", "content": "All set."}
    assert failed["message"] == {"type": "request-failed", "content": "Sorry, nothing is free."}
    assert failed["error"] == "No slots"
    assert "result" not in failed


def check_invalid_result(
    post: Any, received: Any, caplog: Any, handler: Any, problem: str
) -> dict[str, Any]:
    """The call's error is the generic one; the log and handler_error name the problem."""
    with caplog.at_level(logging.ERROR, logger="flask_vapi"):
        response = post(make_tool_calls(("bad", {}), ("good", {})))
    bad, good = results(response)
    assert bad == {
        "toolCallId": tool_call_id(0),
        "name": "bad",
        "error": "The tool 'bad' failed with an internal error.",
    }
    assert good["result"] == "fine"
    failure = received.of("handler_error")[0]
    assert isinstance(failure["exception"], InvalidToolResult)
    assert isinstance(failure["exception"], InvalidResponse)
    assert failure["handler"] is handler
    assert problem in str(failure["exception"])
    assert problem in caplog.text
    assert "Traceback" not in caplog.text
    return failure


def cycle() -> dict[str, Any]:
    looped: dict[str, Any] = {}
    looped["self"] = looped
    return looped


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda: flask.Response("hi"), "return the value, not a Response"),
        (lambda: ToolResult(flask.jsonify(a=1)), "return the value, not a Response"),
        (lambda: b"\x00\x01", "bytes"),
        (lambda: ToolResult(bytearray(b"x")), "bytes"),
        (lambda: object(), "cannot be encoded"),
        (lambda: ToolResult("ok", metadata={"x": object()}), "cannot be encoded"),
        (lambda: ToolResult("ok", metadata={"raw": b"\x00"}), "cannot be encoded"),
        (lambda: ToolResult("ok", metadata=cycle()), "cannot be encoded"),
        (lambda: ToolResult("ok", metadata=[1, 2]), "metadata must be a dict"),
        (
            lambda: ToolResult("ok", message={"type": "request-complete", "content": object()}),
            "cannot be encoded",
        ),
        (lambda: ToolResult("ok", message=42), "message must be a str or a dict"),
    ],
)
def test_a_result_that_cannot_be_sent_is_the_generic_error(
    vapi: VapiBlueprint, post: Any, received: Any, caplog: Any, make: Any, problem: str
) -> None:
    @vapi.tool("bad")
    def bad() -> Any:
        return make()

    vapi.tool("good")(lambda: "fine")
    check_invalid_result(post, received, caplog, bad, problem)


def test_a_deeply_nested_result_within_the_backend_limit_is_sent(
    vapi: VapiBlueprint, post: Any
) -> None:
    # orjson refuses past 254 levels, counting the envelope the entry is sent in: an entry
    # that passes the check must also pass inside {"results": [...]}.
    nested: Any = "leaf"
    for _ in range(252):
        nested = [nested]
    vapi.tool("deep")(lambda: ToolResult("ok", metadata={"d": nested}))
    response = post(make_tool_calls(("deep", {})))
    assert response.status_code == 200
    entry = results(response)[0]
    assert "result" in entry or "error" in entry
