"""The README's "What a tool receives and returns" example does what the section says."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from flask import Flask

from flask_vapi import payloads as p
from flask_vapi.tooldefs import tool_definitions

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
SECTION = README.split("### What a tool receives and returns", 1)[1].split("\n## ", 1)[0]


def example() -> dict[str, Any]:
    (block,) = re.findall(r"```python\n(.*?)```", SECTION, flags=re.DOTALL)
    namespace: dict[str, Any] = {"__name__": "readme_tool_types"}
    exec(compile(block, "README tool types", "exec"), namespace)
    return namespace


def test_the_example_converts_and_answers() -> None:
    namespace = example()
    app = Flask("readme_tool_types")
    app.config.update(TESTING=True, VAPI_SECRET="s")
    app.register_blueprint(namespace["vapi"])
    response = app.test_client().post(
        "/vapi/webhook",
        json=p.wrap(
            p.make_tool_calls(
                ("checkAvailability", {"day": "2026-09-08", "doctor": "Dr. Kim", "party": "2"}),
                ("checkAvailability", {"day": "someday", "doctor": "Dr. Who", "period": "x"}),
                ("checkAvailability", {"doctor": "Dr. Kim", "time": "10:00"}),
            )
        ),
        headers={"X-Vapi-Secret": "s"},
    )
    ok, invalid, wrong_names = response.get_json()["results"]
    assert ok["result"] == (
        '{"day":"2026-09-08","doctor":"Dr. Kim","slots":["09:00","10:30"],"seats":2}'
    )
    assert ok["message"] == {"type": "request-complete", "content": "Dr. Kim is free on Tuesday."}
    assert invalid["error"] == (
        "Invalid arguments for tool 'checkAvailability': day: Not a valid date. "
        "doctor: Must be one of: Dr. Patel, Dr. Kim. period: Must be one of: am, pm."
    )
    assert wrong_names["error"] == (
        "Invalid arguments for tool 'checkAvailability': missing 'day'; unexpected 'time'."
    )


def test_the_example_exports_what_the_table_says() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every parameter is typed: no ToolDefinitionWarning
        (definition,) = tool_definitions(example()["vapi"])
    assert definition["function"] == {
        "name": "checkAvailability",
        "description": "Find free slots.",
        "parameters": {
            "type": "object",
            "properties": {
                "day": {"type": "string", "format": "date"},
                "doctor": {"type": "string", "enum": ["Dr. Patel", "Dr. Kim"]},
                "period": {"type": "string", "enum": ["am", "pm"], "default": "am"},
                "party": {"type": "integer", "default": 1},
                "note": {"type": "string"},
            },
            "required": ["day", "doctor"],
            "additionalProperties": False,
        },
    }
