"""Both JSON backends parse and encode identically; the stdlib one is used without orjson."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import importlib
import sys
import uuid
from typing import Any

import pytest

from flask_vapi import jsonio


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Slot:
    start: datetime.time
    free: bool


VALUES: list[Any] = [
    {"a": 1, "b": [True, None, 1.5], "é": "ü"},
    {"when": datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.timezone.utc)},
    {"date": datetime.date(2026, 12, 1), "price": decimal.Decimal("9.50")},
    {"id": uuid.UUID(int=7), "color": Color.RED, "tags": {"x"}, "pair": (1, 2)},
    [Slot(datetime.time(9, 0), True)],
    {1: "int keys become strings"},
]


@pytest.mark.parametrize("value", VALUES)
def test_backends_encode_identically(value: Any) -> None:
    encoded = jsonio._stdlib_dumps(value)
    assert jsonio.dumps(value) == encoded
    assert b" " not in encoded.replace(b"int keys become strings", b"")
    assert b"\n" not in encoded


def test_unknown_type_raises_type_error() -> None:
    with pytest.raises(TypeError):
        jsonio.dumps({"x": object()})
    with pytest.raises(TypeError):
        jsonio._stdlib_dumps({"x": object()})


@pytest.mark.parametrize("data", [b"{", b"\xff", b"", b"[1,]"])
def test_invalid_json_raises_decode_error(data: bytes) -> None:
    with pytest.raises(jsonio.DecodeError):
        jsonio.loads(data)
    with pytest.raises(jsonio.DecodeError):
        jsonio._stdlib_loads(data)


def test_stdlib_backend_without_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "orjson", None)  # makes "import orjson" fail
    try:
        reloaded = importlib.reload(jsonio)
        assert reloaded.BACKEND == "json"
        assert reloaded.loads(b'{"a": [1]}') == {"a": [1]}
        assert reloaded.dumps({"a": 1}) == b'{"a":1}'
    finally:
        monkeypatch.undo()
        importlib.reload(jsonio)
