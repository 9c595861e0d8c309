"""Tool arguments typed from the handler's annotations: validated, converted, exported."""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import json
import logging
import sys
import typing
from pathlib import Path
from typing import Any, Callable, Dict, List, Literal, Optional, Union  # noqa: UP035

import pytest
from jsonschema import Draft202012Validator

from flask_vapi import ConfigurationError, ToolError, VapiBlueprint
from flask_vapi.payloads import make_tool_calls
from flask_vapi.tooldefs import ToolDefinitionWarning, parameters_schema, tool_definition
from flask_vapi.tools import Tool

SCHEMA_PATH = Path(__file__).parent / "data" / "vapi-function-tool.schema.json"


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Patient:
    """A class flask-vapi cannot turn into a JSON type."""


def handler_for(annotation: Any, **defaults: Any) -> Callable[..., Any]:
    """``def handler(value: <annotation>[= default]): return value`` with a real annotation."""

    def handler(value: Any) -> Any:
        return value

    handler.__annotations__ = {"value": annotation}
    if "value" in defaults:
        handler.__defaults__ = (defaults["value"],)
    return handler


def prepare(func: Callable[..., Any], arguments: Any) -> dict[str, Any]:
    return Tool(name="t", func=func).prepare(arguments)


def error_of(func: Callable[..., Any], arguments: Any) -> str:
    with pytest.raises(ToolError) as caught:
        prepare(func, arguments)
    return str(caught.value)


D = datetime.date(2026, 9, 8)

CONVERSIONS: list[tuple[Any, Any, Any]] = [
    (str, "Maria", "Maria"),
    (int, "21", 21),
    (int, 21, 21),
    (int, 21.0, 21),
    (float, 1, 1.0),
    (float, "1.5", 1.5),
    (bool, True, True),
    (bool, "false", False),
    (datetime.date, "2026-09-08", D),
    (datetime.datetime, "2026-09-08T10:30:00", datetime.datetime(2026, 9, 8, 10, 30)),
    (datetime.time, "10:30", datetime.time(10, 30)),
    (decimal.Decimal, 9.5, decimal.Decimal("9.5")),
    (decimal.Decimal, "9.50", decimal.Decimal("9.50")),
    (Color, "red", Color.RED),
    (Priority, "HIGH", Priority.HIGH),
    (Literal["am", "pm"], "pm", "pm"),
    (Literal[1, 2, 3], "2", 2),
    (Optional[int], None, None),
    (Optional[int], "3", 3),
    (Union[int, None], "3", 3),
    (list, [1, "a", None], [1, "a", None]),
    (List[int], ["1", 2], [1, 2]),  # noqa: UP006
    (list[int], ["1", 2], [1, 2]),
    (list[Optional[datetime.date]], ["2026-09-08", None], [D, None]),
    (dict, {"a": [1]}, {"a": [1]}),
    (Dict[str, Any], {"a": None}, {"a": None}),  # noqa: UP006
    (dict[str, int], {"a": "1"}, {"a": 1}),
    (Any, {"anything": [1]}, {"anything": [1]}),
    (Any, None, None),
    (object, "x", "x"),
    (typing.NewType("PatientId", str), "p-1", "p-1"),
]
if sys.version_info >= (3, 10):
    CONVERSIONS.append((eval("int | None"), "4", 4))


@pytest.mark.parametrize(("annotation", "value", "expected"), CONVERSIONS)
def test_annotations_convert_arguments(annotation: Any, value: Any, expected: Any) -> None:
    converted = prepare(handler_for(annotation), {"value": value})
    assert converted == {"value": expected}
    assert type(converted["value"]) is type(expected)


def test_unannotated_parameters_take_any_value() -> None:
    def handler(value, other=None):  # type: ignore[no-untyped-def]
        return value

    assert prepare(handler, {"value": {"x": [None]}}) == {"value": {"x": [None]}}
    assert prepare(handler, {"value": None, "other": 1}) == {"value": None, "other": 1}


@pytest.mark.parametrize(
    ("annotation", "value", "message"),
    [
        (str, 21, "value: Not a valid string."),
        (int, "21x", "value: Not a valid integer."),
        (int, 21.5, "value: Not a valid integer."),
        (int, True, "value: Not a valid integer."),
        (int, None, "value: Field may not be null."),
        (float, "many", "value: Not a valid number."),
        (bool, "maybe", "value: Not a valid boolean."),
        (datetime.date, "someday", "value: Not a valid date."),
        (datetime.datetime, "soon", "value: Not a valid datetime."),
        (datetime.time, "noon", "value: Not a valid time."),
        (decimal.Decimal, "abc", "value: Not a valid number."),
        (
            decimal.Decimal,
            "NaN",
            "value: Special numeric values (nan or infinity) are not permitted.",
        ),
        (Color, "RED", "value: Must be one of: red, blue."),
        (Literal["am", "pm"], "noon", "value: Must be one of: am, pm."),
        (Literal[1, 2, 3], 5, "value: Must be one of: 1, 2, 3."),
        (list[int], "1", "value: Not a valid list."),
        (list[int], [1, "a"], "value.1: Not a valid integer."),
        (dict, [1], "value: Not a valid mapping type."),
        (dict[str, int], {"a": "b"}, "value.a.value: Not a valid integer."),
    ],
)
def test_invalid_values_name_the_field(annotation: Any, value: Any, message: str) -> None:
    assert error_of(handler_for(annotation), {"value": value}) == (
        f"Invalid arguments for tool 't': {message}"
    )


def test_string_annotations_resolve() -> None:
    # This module has ``from __future__ import annotations``: every annotation is a string.
    def handler(
        day: datetime.date, color: Color, tags: list[Color], when: Optional[datetime.time] = None
    ) -> Patient:  # the return annotation is not read
        raise AssertionError

    assert isinstance(handler.__annotations__["day"], str)
    assert prepare(handler, {"day": "2026-09-08", "color": "blue", "tags": ["red"]}) == {
        "day": D,
        "color": Color.BLUE,
        "tags": [Color.RED],
    }


def test_string_union_annotations_resolve() -> None:
    def handler(n: int | None, day: datetime.date | None = None) -> None: ...

    assert prepare(handler, {"n": None, "day": "2026-09-08"}) == {"n": None, "day": D}
    assert prepare(handler, {"n": "1"}) == {"n": 1}


def test_the_issue_example_doubles_the_number(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.tool
    def double(n: int) -> int:
        return n * 2

    items = post(make_tool_calls(("double", {"n": "21"}), ("double", {"n": "x"}))).get_json()
    assert items["results"][0]["result"] == "42"
    assert items["results"][1]["error"] == (
        "Invalid arguments for tool 'double': n: Not a valid integer."
    )


def test_defaults_make_arguments_optional() -> None:
    def handler(n: int = 3, color: Color = Color.RED, note: str = None) -> None:  # type: ignore[assignment]  # noqa: RUF013
        ...

    assert prepare(handler, {}) == {}  # the handler's own defaults apply
    assert prepare(handler, {"note": None, "n": "4"}) == {"note": None, "n": 4}
    assert error_of(handler, {"n": None}) == (
        "Invalid arguments for tool 't': n: Field may not be null."
    )


def test_optional_without_default_is_required_but_nullable() -> None:
    def handler(n: Optional[int]) -> None: ...

    assert error_of(handler, {}) == "Invalid arguments for tool 't': missing 'n'."
    assert prepare(handler, {"n": None}) == {"n": None}


def test_missing_unexpected_and_invalid_are_reported_together() -> None:
    def handler(a: int, b: str, c: str = "") -> None: ...

    assert error_of(handler, {"a": "x", "d": 1, "e": 2}) == (
        "Invalid arguments for tool 't': missing 'b'; unexpected 'd', 'e'. a: Not a valid integer."
    )


def test_kwargs_accepts_other_arguments_as_they_are() -> None:
    def handler(a: int, **rest: Any) -> None: ...

    assert prepare(handler, {"a": "1", "z": ["2"]}) == {"a": 1, "z": ["2"]}
    assert error_of(handler, {"z": 1}) == "Invalid arguments for tool 't': missing 'a'."


@pytest.mark.parametrize(
    ("arguments", "valid"),
    [
        ({"s": "x", "n": 1, "b": True, "a": None}, True),
        ({"s": "x", "n": True, "b": True}, False),  # a bool is not an int
        ({"s": "x", "n": 1, "b": 1}, True),  # an int is not a bool, but converts
        ({"s": 1, "n": 1, "b": True}, False),
        ({"s": "x", "n": "1", "b": "true"}, True),
        ({"s": "x", "n": 1}, False),
        ({"s": "x", "n": 1, "b": True, "zz": 1}, None),  # valid only with **rest
        ({"s": None, "n": 1, "b": True}, False),
    ],
)
@pytest.mark.parametrize("open_ended", [False, True])
def test_the_fast_path_agrees_with_the_schema(
    arguments: dict[str, Any], valid: Optional[bool], open_ended: bool
) -> None:
    def closed(s: str, n: int, b: bool, a: Any = None) -> None: ...

    def open(s: str, n: int, b: bool, a: Any = None, **rest: Any) -> None: ...

    tool = Tool(name="t", func=open if open_ended else closed)
    assert tool.fast_types is not None  # the fast path is taken when it can be
    if valid is None:
        valid = open_ended
    assert (tool.arguments_schema.validate(arguments) == {}) is valid  # the schema agrees
    if valid:
        assert tool.prepare(arguments) == tool.arguments_schema.load(arguments)
    else:
        with pytest.raises(ToolError):
            tool.prepare(arguments)


# -- registration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "shown"),
    [
        (Patient, "Patient"),
        (Union[int, str], "Union"),
        (set, "set"),
        (tuple[int, int], "tuple"),
        (Literal[1, "a"], "Literal"),
        (list[Patient], "Patient"),
    ],
)
def test_unmappable_annotations_fail_at_registration(annotation: Any, shown: str) -> None:
    vapi = VapiBlueprint()
    with pytest.raises(ConfigurationError) as caught:
        vapi.tool("lookup")(handler_for(annotation))
    text = str(caught.value)
    assert "tool 'lookup'" in text
    assert "parameter 'value'" in text
    assert shown in text
    assert "schema=" in text  # says what to do instead


def test_unresolvable_string_annotations_fail_at_registration() -> None:
    def handler(a: int, c: Unknown) -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    with pytest.raises(ConfigurationError, match=r"parameter 'c' of tool 'odd'.*Unknown"):
        VapiBlueprint().tool("odd")(handler)


def test_schema_tools_do_not_read_annotations() -> None:
    from marshmallow import Schema, fields

    class Args(Schema):
        value = fields.Integer(required=True)

    def handler(value: Unknown) -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    vapi = VapiBlueprint()
    vapi.tool("given", schema=Args)(handler)
    assert vapi.dispatcher.tools["given"].arguments_schema is vapi.dispatcher.tools["given"].schema


@pytest.mark.parametrize(
    "name", ["book appointment", "x" * 65, "booking.create", "café", "<lambda>"]
)
def test_names_vapi_refuses_fail_at_registration(name: str) -> None:
    with pytest.raises(ConfigurationError, match=f"tool name {name!r} is not a valid Vapi"):
        VapiBlueprint().tool(name)(lambda: None)
    if name == "<lambda>":  # the default name of a lambda
        with pytest.raises(ConfigurationError, match=f"tool name {name!r} is not a valid Vapi"):
            VapiBlueprint().tool(lambda: None)


def test_longest_valid_name_is_accepted() -> None:
    vapi = VapiBlueprint()
    vapi.tool("a-Z_9" + "x" * 59)(lambda: None)
    assert len(next(iter(vapi.dispatcher.tools))) == 64


# -- partials and callable objects -------------------------------------------------------------


def book(db: dict[str, str], day: datetime.date, party: int = 2) -> str:
    """Book a table."""
    return f"{db['name']}: {day.isoformat()} for {party}"


class Booker:
    """Book a table at a restaurant."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, day: datetime.date, party: int = 2) -> str:
        return f"{self.name}: {day.isoformat()} for {party}"


def test_a_partial_is_named_and_described_by_its_function(vapi: VapiBlueprint) -> None:
    vapi.tool(functools.partial(book, db={"name": "Mario's"}))
    assert list(vapi.dispatcher.tools) == ["book"]
    assert vapi.dispatcher.tools["book"].description == "Book a table."


def test_partial_handlers_through_the_webhook(vapi: VapiBlueprint, post: Any) -> None:
    vapi.tool("positional")(functools.partial(book, {"name": "Luigi's"}))
    vapi.tool("keyword")(functools.partial(book, db={"name": "Mario's"}))
    items = post(
        make_tool_calls(
            ("positional", {"day": "2026-09-08"}),
            ("keyword", {"day": "2026-09-08", "party": "4"}),
            ("keyword", {"day": "2026-09-08", "db": {"name": "evil"}}),
        )
    ).get_json()["results"]
    assert items[0]["result"] == "Luigi's: 2026-09-08 for 2"
    assert items[1]["result"] == "Mario's: 2026-09-08 for 4"
    # A bound argument is not the model's to choose.
    assert items[2]["error"] == "Invalid arguments for tool 'keyword': unexpected 'db'."


def test_partial_and_callable_object_definitions() -> None:
    vapi = VapiBlueprint()
    vapi.tool("keyword")(functools.partial(book, db={"name": "Mario's"}))
    vapi.tool(Booker("Luigi's"))
    expected = {
        "type": "object",
        "properties": {
            "day": {"type": "string", "format": "date"},
            "party": {"type": "integer", "default": 2},
        },
        "required": ["day"],
        "additionalProperties": False,
    }
    keyword, booker = vapi.dispatcher.tools.values()
    assert parameters_schema(keyword) == expected
    assert parameters_schema(booker) == expected
    assert booker.name == "Booker"
    assert booker.description == "Book a table at a restaurant."
    assert keyword.description == "Book a table."


def test_callable_object_through_the_webhook(vapi: VapiBlueprint, post: Any) -> None:
    vapi.tool("book")(Booker("Luigi's"))
    items = post(
        make_tool_calls(("book", {"day": "2026-09-08", "party": "3"}), ("book", {"day": 1}))
    ).get_json()["results"]
    assert items[0]["result"] == "Luigi's: 2026-09-08 for 3"
    assert items[1]["error"] == "Invalid arguments for tool 'book': day: Not a valid date."


def test_a_failing_partial_logs_no_bound_arguments(
    vapi: VapiBlueprint, post: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def charge(api_key: str, amount: int) -> str:
        raise RuntimeError("card declined")

    vapi.tool("charge")(functools.partial(charge, api_key="sk_live_hunter2"))
    with caplog.at_level(logging.ERROR, logger="flask_vapi"):
        items = post(make_tool_calls(("charge", {"amount": 5}))).get_json()["results"]
    assert items[0]["error"] == "The tool 'charge' failed with an internal error."
    assert "card declined" in caplog.text
    assert "charge" in caplog.text
    assert "hunter2" not in caplog.text


# -- export ------------------------------------------------------------------------------------


def typed_tool(
    name: str,
    count: int,
    ratio: float,
    urgent: bool,
    day: datetime.date,
    starts_at: datetime.datetime,
    slot: datetime.time,
    price: decimal.Decimal,
    color: Color,
    priority: Priority,
    period: Literal["am", "pm"],
    size: Literal[1, 2, 3],
    maybe: Optional[int],
    numbers: list[int],
    anything: list,  # type: ignore[type-arg]
    options: dict,  # type: ignore[type-arg]
    scores: dict[str, int],
    shade: Color = Color.BLUE,
    first: datetime.date = datetime.date(2026, 1, 2),
    retries: int = 3,
    note: Optional[str] = None,
) -> None:
    """Everything a signature can say."""


TYPED_PROPERTIES = {
    "name": {"type": "string"},
    "count": {"type": "integer"},
    "ratio": {"type": "number"},
    "urgent": {"type": "boolean"},
    "day": {"type": "string", "format": "date"},
    "starts_at": {"type": "string", "format": "date-time"},
    "slot": {"type": "string", "format": "time"},
    "price": {"type": "number"},
    "color": {"type": "string", "enum": ["red", "blue"]},
    "priority": {"type": "string", "enum": ["LOW", "HIGH"]},
    "period": {"type": "string", "enum": ["am", "pm"]},
    "size": {"type": "integer"},  # Vapi's enums are strings only
    "maybe": {"type": "integer"},
    "numbers": {"type": "array", "items": {"type": "integer"}},
    "anything": {"type": "array"},
    "options": {"type": "object"},
    "scores": {"type": "object", "additionalProperties": {"type": "integer"}},
    "shade": {"type": "string", "enum": ["red", "blue"], "default": "blue"},
    "first": {"type": "string", "format": "date", "default": "2026-01-02"},
    "retries": {"type": "integer", "default": 3},
    "note": {"type": "string"},
}


def test_every_supported_annotation_exports_a_valid_vapi_tool() -> None:
    vapi = VapiBlueprint()
    vapi.tool(typed_tool)
    definition = tool_definition(vapi.dispatcher.tools["typed_tool"])
    dto = Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in dto.iter_errors(definition)]
    assert not errors, errors
    parameters = definition["function"]["parameters"]
    assert parameters["properties"] == TYPED_PROPERTIES
    assert list(parameters["properties"]) == list(TYPED_PROPERTIES)  # signature order
    assert parameters["required"] == sorted(list(TYPED_PROPERTIES)[:17])  # apispec sorts
    assert parameters["additionalProperties"] is False
    assert definition["function"]["description"] == "Everything a signature can say."


def test_the_exported_schema_is_the_validating_schema() -> None:
    def handler(day: datetime.date, party: int = 2) -> None: ...

    tool = Tool(name="t", func=handler)
    assert tool.schema is None
    assert sorted(tool.arguments_schema.fields) == ["day", "party"]
    assert tool.arguments_schema.fields["day"].required
    assert not tool.arguments_schema.fields["party"].required


def test_unannotated_and_any_parameters_warn_at_export() -> None:
    def handler(value, other: Any = None) -> None:  # type: ignore[no-untyped-def]
        pass

    vapi = VapiBlueprint()
    vapi.tool("loose")(handler)
    with pytest.warns(ToolDefinitionWarning) as caught:
        parameters = parameters_schema(vapi.dispatcher.tools["loose"])
    assert [str(w.message).split(" has")[0] for w in caught] == [
        "Parameter 'value' of tool 'loose'",
        "Parameter 'other' of tool 'loose'",
    ]
    assert parameters["properties"] == {"value": {}, "other": {}}


def test_a_handler_that_is_not_callable_fails_as_configuration() -> None:
    with pytest.raises(ConfigurationError, match="The handler of tool 'x' must be callable"):
        VapiBlueprint().tool("x")(42)  # type: ignore[type-var]
