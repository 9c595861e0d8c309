"""Tool arguments given as a JSON string are read with the same policy as request bodies."""

from __future__ import annotations

from typing import Any

import pytest

from flask_vapi import VapiBlueprint, jsonio
from flask_vapi.models.tools import parse_arguments
from flask_vapi.payloads import make_function_call, make_tool_calls

DEEP = "[" * 100_000 + "]" * 100_000

BACKENDS = [
    pytest.param(jsonio._stdlib_loads, id="json"),
    pytest.param(jsonio._orjson_loads, id="orjson"),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the test with jsonio.loads set to one backend."""
    monkeypatch.setattr(jsonio, "loads", request.param)


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"date": "2026-12-01", "party": 2}', {"date": "2026-12-01", "party": 2}),
        (b'{"a": [1]}', {"a": [1]}),
        (" [1, 2] ", [1, 2]),
        (r'{"note": "caf\u00e9 \ud83d\ude00"}', {"note": "café \U0001f600"}),
        (r'{"note": "cut \ud83d"}', {"note": "cut \ufffd"}),
        (r'{"note": "\\ud800"}', {"note": "\\ud800"}),
        # Not JSON: the string is handed on unchanged.
        ("not json", "not json"),
        ("", ""),
        ("NaN", "NaN"),
        ('{"a": Infinity}', '{"a": Infinity}'),
        ('{"a": 1} trailing', '{"a": 1} trailing'),
        ('{"a": "\ud800"}', '{"a": "\ud800"}'),  # a raw surrogate is not UTF-8
        (DEEP, DEEP),
        # Anything else is already parsed.
        ({"a": 1}, {"a": 1}),
        ([1], [1]),
        (7, 7),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_parse_arguments(value: Any, expected: Any) -> None:
    assert parse_arguments(value) == expected


@pytest.mark.usefixtures("backend")
def test_deep_arguments_lose_only_their_own_call(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.tool("echo")
    def echo(**arguments: Any) -> Any:
        return arguments

    message = make_tool_calls(("echo", {"a": 1}), ("echo", {}), ("echo", {"b": 2}))
    message["toolCallList"][1]["function"]["arguments"] = DEEP
    response = post(message)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [item.get("result") for item in results] == ['{"a":1}', None, '{"b":2}']
    assert "expected a JSON object" in results[1]["error"]


@pytest.mark.usefixtures("backend")
def test_function_call_parameters_use_the_same_policy(vapi: VapiBlueprint, post: Any) -> None:
    @vapi.tool("echo")
    def echo(**arguments: Any) -> Any:
        return arguments

    message = make_function_call(name="echo", parameters=r'{"said": "hi \ud83d"}')
    response = post(message)
    assert response.status_code == 200
    assert response.get_json() == {"result": '{"said":"hi \ufffd"}'}
