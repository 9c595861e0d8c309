"""Example arguments for tool schemas (``flask vapi simulate``): values the schemas accept."""

from __future__ import annotations

import datetime
from typing import Any, Literal, Optional

import pytest

from flask_vapi import VapiBlueprint
from flask_vapi.cli.examples import example_arguments, near_weekday
from flask_vapi.tooldefs import parameters_schema

from .tool_schemas import Everything

TUESDAY = datetime.date(2026, 9, 8)


def make_blueprint() -> VapiBlueprint:
    vapi = VapiBlueprint()

    @vapi.tool("bookAppointment", schema=Everything)
    def book(**arguments: Any) -> str:
        return "ok"

    @vapi.tool
    def check(
        date: str,
        count: int = 3,
        ratio: float = 0.5,
        morning: bool = False,
        doctors: Optional[list[str]] = None,
        filters: dict[str, Any] | None = None,
        period: Literal["am", "pm"] = "am",
        raw: list = None,  # type: ignore[assignment,type-arg]  # noqa: RUF013
    ) -> str:
        return "ok"

    return vapi


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (datetime.date(2026, 9, 7), datetime.date(2026, 9, 8)),  # Monday -> Tuesday
        (datetime.date(2026, 9, 11), datetime.date(2026, 9, 14)),  # Friday -> Monday
        (datetime.date(2026, 9, 12), datetime.date(2026, 9, 14)),  # Saturday -> Monday
    ],
)
def test_near_weekday(today: datetime.date, expected: datetime.date) -> None:
    assert near_weekday(today) == expected


def test_example_arguments_are_accepted_by_the_schema() -> None:
    tool = make_blueprint().dispatcher.tools["bookAppointment"]
    arguments = example_arguments(parameters_schema(tool), today=TUESDAY)
    assert tool.schema is not None
    assert tool.schema.validate(arguments) == {}
    assert arguments.pop("wait") == 1  # 1 or 1.0, as the marshmallow version types it
    assert arguments == {
        "name": "Maria Gonzalez",
        "age": 65,
        "weight": 2.0,
        "price": 1.0,
        "urgent": False,
        "doctor": "Dr. Patel",
        "color": "RED",
        "day": "2026-09-09",
        "startsAt": "2026-09-09T10:30:00",
        "slot": "10:30:00",
        "email": "maria.gonzalez@example.com",
        "website": "https://example.com",
        "ref": "9b2f4c1e-5d6a-4e8b-9c3d-2a1f0e7b6c5d",
        "tags": ["example"],
        "address": {"street": "example", "city": "Springfield"},
        "others": [{"street": "example", "city": "Springfield"}],
        "extra": {},
        "note": "example",
    }


def test_example_arguments_from_a_signature() -> None:
    tool = make_blueprint().dispatcher.tools["check"]
    assert example_arguments(parameters_schema(tool), today=TUESDAY) == {
        "date": "2026-09-09",
        "count": 3,
        "ratio": 0.5,
        "morning": False,
        "doctors": ["example"],
        "filters": {},
        "period": "am",
        "raw": ["example"],
    }


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "minLength": 10}, "examplexxx"),
        ({"type": "string", "maxLength": 3}, "exa"),
        ({"type": "string", "format": "time"}, "10:30:00"),
        ({"type": "string", "format": "duration"}, "PT30M"),
        ({"type": "string", "format": "ipv4"}, "192.0.2.10"),
        ({"type": "integer", "minimum": 5}, 6),
        ({"type": "integer", "maximum": 0}, -1),
        ({"type": "integer", "minimum": 1, "maximum": 2}, 2),
        ({"type": "number", "minimum": 0, "maximum": 1}, 0.5),
        ({"type": "array", "items": {"type": "boolean"}, "minItems": 2}, [True, True]),
        ({}, "example"),
    ],
)
def test_example_values(schema: dict[str, Any], expected: Any) -> None:
    parameters = {"type": "object", "properties": {"value": schema}}
    assert example_arguments(parameters, today=TUESDAY) == {"value": expected}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("patientName", "Maria Gonzalez"),
        ("callback_phone", "+14155550123"),
        ("emailAddress", "maria.gonzalez@example.com"),
        ("appointmentDate", "2026-09-09"),
        ("preferredDay", "2026-09-09"),
        ("dateTime", "2026-09-09T10:30:00"),
        ("startTime", "10:30"),
        ("websiteURL", "https://example.com"),
        ("candidate", "example"),  # whole words only
    ],
)
def test_example_strings_follow_the_property_name(name: str, expected: str) -> None:
    parameters = {"type": "object", "properties": {name: {"type": "string"}}}
    assert example_arguments(parameters, today=TUESDAY) == {name: expected}
