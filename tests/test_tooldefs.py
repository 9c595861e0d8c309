"""Tool definitions from code: JSON Schema from marshmallow schemas and signatures, checked
against Vapi's own ``CreateFunctionToolDTO``; example arguments that the schemas accept."""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import Any, Literal, Optional

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from marshmallow import Schema, fields, validate

from flask_vapi import ConfigurationError, VapiBlueprint
from flask_vapi.testing import VapiClient
from flask_vapi.tooldefs import (
    ToolDefinitionWarning,
    parameters_schema,
    tool_definition,
    tool_definitions,
)

from .tool_schemas import Everything

SCHEMA_PATH = Path(__file__).parent / "data" / "vapi-function-tool.schema.json"
SERVER_URL = "https://clinic.example.com/vapi/webhook"


@pytest.fixture(scope="module")
def dto() -> Draft202012Validator:
    """Vapi's ``CreateFunctionToolDTO`` (see tests/data/make_function_tool_schema.py)."""
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def assert_vapi_accepts(dto: Draft202012Validator, definition: dict[str, Any]) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in dto.iter_errors(definition)]
    assert not errors, errors


def make_blueprint() -> VapiBlueprint:
    vapi = VapiBlueprint()

    @vapi.tool("bookAppointment", schema=Everything)
    def book(**arguments: Any) -> str:
        """Book an appointment."""
        return "ok"

    @vapi.tool(description="Find free slots.")
    def check(
        date: str,
        count: int = 3,
        ratio: float = 0.5,
        morning: bool = False,
        doctors: Optional[list[str]] = None,
        filters: Optional[dict[str, Any]] = None,  # X | None: see test_toolschema.py
        period: Literal["am", "pm"] = "am",
        raw: list = None,  # type: ignore[assignment,type-arg]  # noqa: RUF013
    ) -> str:
        return "ok"

    @vapi.tool
    def ping() -> str:
        return "pong"

    return vapi


def test_every_definition_is_a_valid_vapi_function_tool(dto: Draft202012Validator) -> None:
    definitions = tool_definitions(make_blueprint(), server_url=SERVER_URL)
    assert [d["function"]["name"] for d in definitions] == ["bookAppointment", "check", "ping"]
    for definition in definitions:
        assert_vapi_accepts(dto, definition)
        assert definition["type"] == "function"
        assert definition["server"] == {"url": SERVER_URL}


def test_the_vapi_schema_is_strict_enough_to_matter(dto: Draft202012Validator) -> None:
    good = tool_definition(make_blueprint().dispatcher.tools["ping"])
    assert_vapi_accepts(dto, good)
    assert not dto.is_valid({**good, "type": "code"})
    assert not dto.is_valid({**good, "function": {"name": "bad name!"}})
    parameters = {"type": "object", "properties": {"x": {"type": "str"}}}
    assert not dto.is_valid({**good, "function": {"name": "x", "parameters": parameters}})
    untyped = {"type": "object", "properties": {"x": {}}}
    assert not dto.is_valid({**good, "function": {"name": "x", "parameters": untyped}})


def test_parameters_from_a_marshmallow_schema() -> None:
    tool = make_blueprint().dispatcher.tools["bookAppointment"]
    parameters = parameters_schema(tool)
    properties = parameters.pop("properties")
    assert parameters == {"type": "object", "required": ["address", "day", "doctor", "name"]}
    # Seconds: an integer in marshmallow 3, a float in 4; apispec's "x-unit" is left out.
    assert properties.pop("wait") in ({"type": "integer"}, {"type": "number"})
    assert properties == {
        "name": {"type": "string", "minLength": 2, "maxLength": 40, "description": "Full name."},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "weight": {"type": "number", "minimum": 1},
        "price": {"type": "number"},
        "urgent": {"type": "boolean", "default": False},
        "doctor": {"type": "string", "enum": ["Dr. Patel", "Dr. Kim"]},
        "color": {"type": "string", "enum": ["RED", "BLUE"]},
        "day": {"type": "string", "format": "date"},
        "startsAt": {"type": "string", "format": "date-time"},
        "slot": {"type": "string", "format": "time"},
        "email": {"type": "string", "format": "email"},
        "website": {"type": "string"},  # Vapi has no "url" format
        "ref": {"type": "string", "format": "uuid"},
        "tags": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "address": {
            "type": "object",
            "properties": {
                "street": {"type": "string", "description": "Street and number."},
                "city": {"type": "string", "default": "Springfield"},
            },
            "required": ["street"],
            "additionalProperties": False,
        },
        "others": {"type": "array", "items": properties["address"]},
        "extra": {"type": "object", "additionalProperties": {"type": "integer"}},
        "note": {"type": "string"},
    }


def test_unknown_raise_forbids_other_properties() -> None:
    vapi = VapiBlueprint()

    class Strict(Schema):
        date = fields.Date(required=True)

    vapi.tool("strict", schema=Strict)(lambda date: date)
    assert parameters_schema(vapi.dispatcher.tools["strict"])["additionalProperties"] is False


def test_parameters_from_a_signature() -> None:
    parameters = parameters_schema(make_blueprint().dispatcher.tools["check"])
    assert parameters == {
        "type": "object",
        "properties": {
            "date": {"type": "string"},
            "count": {"type": "integer", "default": 3},
            "ratio": {"type": "number", "default": 0.5},
            "morning": {"type": "boolean", "default": False},
            "doctors": {"type": "array", "items": {"type": "string"}},
            "filters": {"type": "object"},
            "period": {"type": "string", "enum": ["am", "pm"], "default": "am"},
            "raw": {"type": "array"},
        },
        "required": ["date"],
        "additionalProperties": False,
    }


def test_signature_without_parameters_or_with_kwargs() -> None:
    vapi = VapiBlueprint()

    @vapi.tool
    def anything(first: str = "", /, second: int = 1, *rest: Any, **more: Any) -> None:
        pass

    assert parameters_schema(make_blueprint().dispatcher.tools["ping"]) == {
        "type": "object",
        "properties": {},
        "additionalProperties": False,
    }
    assert parameters_schema(vapi.dispatcher.tools["anything"]) == {
        "type": "object",
        "properties": {"second": {"type": "integer", "default": 1}},
        "additionalProperties": True,  # **more takes any other argument
    }


def test_untyped_parameters_warn_with_their_path(dto: Draft202012Validator) -> None:
    vapi = VapiBlueprint()

    class Loose(Schema):
        anything = fields.Raw()
        items = fields.List(fields.Nested(Schema.from_dict({"deep": fields.Raw()})))
        inner = fields.Nested(Schema.from_dict({"deep": fields.Raw()}))
        any_items = fields.List(fields.Raw())  # an array of anything: no "items", no warning

    vapi.tool("loose", schema=Loose)(lambda **kwargs: None)
    vapi.tool("unannotated")(lambda value: value)
    with pytest.warns(ToolDefinitionWarning) as caught:
        definitions = tool_definitions(vapi)
    assert [str(w.message).split(" has")[0] for w in caught] == [
        "Parameter 'anything' of tool 'loose'",
        "Parameter 'items[].deep' of tool 'loose'",
        "Parameter 'inner.deep' of tool 'loose'",
        "Parameter 'value' of tool 'unannotated'",
    ]
    assert definitions[0]["function"]["parameters"]["properties"]["any_items"] == {"type": "array"}
    assert definitions[1]["function"]["parameters"]["properties"] == {"value": {}}
    assert not dto.is_valid(definitions[1])  # which is why it warns


def test_description_name_and_server() -> None:
    tools = make_blueprint().dispatcher.tools
    assert tool_definition(tools["bookAppointment"])["function"]["description"] == (
        "Book an appointment."
    )
    assert tool_definition(tools["check"])["function"]["description"] == "Find free slots."
    ping = tool_definition(tools["ping"])
    assert ping == {
        "type": "function",
        "function": {
            "name": "ping",
            "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
        },
    }


def test_circular_schemas_fail_clearly() -> None:
    class Node(Schema):
        child = fields.Nested(lambda: Node())

    vapi = VapiBlueprint()
    vapi.tool("tree", schema=Node)(lambda **kwargs: None)
    with pytest.raises(ConfigurationError, match="Cannot derive the parameters of tool 'tree'"):
        tool_definitions(vapi)


def test_without_apispec_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "apispec", None)  # makes `import apispec` fail
    with pytest.raises(ImportError, match=r"pip install 'flask-vapi\[tools\]'"):
        tool_definitions(make_blueprint())
    # Every tool's parameters go through apispec, also those typed by their signature.
    with pytest.raises(ImportError, match=r"tool 'ping'.*pip install 'flask-vapi\[tools\]'"):
        tool_definition(make_blueprint().dispatcher.tools["ping"])


# -- @vapi.tool(schema=...) through the webhook ------------------------------------------------


def test_schema_tools_validate_and_convert_before_the_handler() -> None:
    vapi = VapiBlueprint()
    seen: list[dict[str, Any]] = []

    class Booking(Schema):
        day = fields.Date(required=True)
        party = fields.Integer(load_default=1, validate=validate.Range(min=1, max=4))

    @vapi.tool("book", schema=Booking)
    def book(day: datetime.date, party: int) -> str:
        seen.append({"day": day, "party": party})
        return "booked"

    app = Flask("schema_tools")
    app.config.update(TESTING=True, VAPI_SECRET="s")
    app.register_blueprint(vapi)
    client = VapiClient(app)
    reply = client.send_message(
        "tool-calls",
        ("book", {"day": "2026-09-08"}),
        ("book", {"day": "someday", "party": 9}),
        arguments_as="string",
    )
    ok, bad = reply.json["results"]
    assert ok["result"] == "booked"
    assert seen == [{"day": datetime.date(2026, 9, 8), "party": 1}]
    assert bad["error"].startswith("Invalid arguments for tool 'book': ")
    assert "day: Not a valid date." in bad["error"]
    assert "party: Must be greater than or equal to 1 and less than or equal to 4." in bad["error"]


def test_a_background_tool_is_exported_async(dto: Draft202012Validator) -> None:
    vapi = VapiBlueprint()

    @vapi.tool(background=True)
    def lookup_order(order: str) -> str:
        """Look an order up (slow)."""
        return order

    @vapi.tool
    def quick() -> str:
        return "x"

    slow, fast = tool_definitions(vapi, server_url=SERVER_URL)
    assert slow["async"] is True
    assert "async" not in fast
    assert_vapi_accepts(dto, slow)
