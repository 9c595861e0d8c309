"""jsonio.dumps: one encoding policy, checked on the stdlib and the orjson backend alike."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import importlib
import json
import sys
import uuid
from typing import Any, Callable

import pytest

from flask_vapi import jsonio

Dumps = Callable[[Any], bytes]
BACKENDS = [
    pytest.param(jsonio._stdlib_dumps, id="json"),
    pytest.param(jsonio._orjson_dumps, id="orjson"),
]
backends = pytest.mark.parametrize("dumps", BACKENDS)

FFFD_UTF8 = "\ufffd".encode()


class Color(enum.Enum):
    RED = "red"


class Size(enum.IntEnum):
    LARGE = 3


@dataclasses.dataclass
class Slot:
    start: datetime.time
    free: bool


@dataclasses.dataclass
class Day:
    slots: list[Slot]
    by_name: dict[str, Slot]
    note: Any = None


def nested_list(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


VALUES: list[Any] = [
    {"a": 1, "b": [True, None, 1.5], "é": "ü"},
    {"when": datetime.datetime(2026, 12, 1, 9, 30, tzinfo=datetime.timezone.utc)},
    {"date": datetime.date(2026, 12, 1), "price": decimal.Decimal("9.50")},
    {"id": uuid.UUID(int=7), "color": Color.RED, "tags": {"x"}, "pair": (1, 2)},
    [Slot(datetime.time(9, 0), True)],
    {1: "int keys become strings"},
]

#: Values both backends must encode to the very same bytes.
SAME_BYTES: list[Any] = [
    *VALUES,
    Day([Slot(datetime.time(9), True)], {"x": Slot(datetime.time(10), False)}, (Color.RED,)),
    {"size": Size.LARGE, "n": [0, -1, 2**63 - 1, -(2**63), 2**64 - 1]},
    {"big": 2**64, "small": -(2**63) - 1, 2**70: "big key"},
    {1.5: "float key", True: "bool key", None: "none key"},
    {"controls": "".join(chr(c) for c in range(32)) + '"\\/\x7f\u2028\u2029'},
    {"text": "é ü ß 中文 😀 \U0010ffff", "empty": "", "nul": "\x00"},
    [0.1, 1.5, -0.0, 123456789.125, 0.0001, 1e15, 2.5],
    nested_list(200),
    nested_list(400),
    frozenset(),
    (),
]


@pytest.mark.parametrize("value", VALUES)
def test_backends_encode_identically(value: Any) -> None:
    encoded = jsonio._stdlib_dumps(value)
    assert jsonio.dumps(value) == encoded
    assert b" " not in encoded.replace(b"int keys become strings", b"")
    assert b"\n" not in encoded


@pytest.mark.parametrize("value", SAME_BYTES)
def test_backends_give_the_same_bytes(value: Any) -> None:
    assert jsonio._orjson_dumps(value) == jsonio._stdlib_dumps(value)


@backends
def test_default_types(dumps: Dumps) -> None:
    day = Day([Slot(datetime.time(9), True)], {"x": Slot(datetime.time(10, 30), False)})
    assert json.loads(dumps({"day": day, "c": Color.RED, "s": {2}, "t": (1,)})) == {
        "day": {
            "slots": [{"start": "09:00:00", "free": True}],
            "by_name": {"x": {"start": "10:30:00", "free": False}},
            "note": None,
        },
        "c": "red",
        "s": [2],
        "t": [1],
    }


@backends
def test_exponent_floats_read_back_equal(dumps: Dumps) -> None:
    # The only byte-level difference: the exponent form (orjson 1e-7, stdlib 1e-07; some
    # orjson 1e16 where the stdlib writes 1e+16).
    values = [1e-7, 2.5e-10, 1e16, 1e22, 1.5e300, 5e-324, 1.7976931348623157e308]
    assert json.loads(dumps(values)) == values


# --- lone surrogates ------------------------------------------------------------------------


@backends
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("\ud800", b'"' + FFFD_UTF8 + b'"'),
        ("cut mid-emoji \ud83d", b'"cut mid-emoji ' + FFFD_UTF8 + b'"'),
        ({"toolCallId": "call_\udc00"}, b'{"toolCallId":"call_' + FFFD_UTF8 + b'"}'),
        ({"\udfff": ["\ud800x"]}, b'{"' + FFFD_UTF8 + b'":["' + FFFD_UTF8 + b'x"]}'),
        # Two surrogate code points in a Python str are not a character: each is replaced.
        ("\ud83d\ude00", b'"' + FFFD_UTF8 * 2 + b'"'),
        (
            [Slot(datetime.time(9), True), "\ud800", 2**64],
            b'[{"start":"09:00:00","free":true},"' + FFFD_UTF8 + b'",18446744073709551616]',
        ),
    ],
)
def test_lone_surrogates_become_replacement_characters(
    dumps: Dumps, value: Any, expected: bytes
) -> None:
    assert dumps(value) == expected


@backends
def test_surrogates_next_to_valid_text_survive(dumps: Dumps) -> None:
    assert json.loads(dumps(["😀\ud800é", {"k": "\\ud800"}])) == ["😀\ufffdé", {"k": "\\ud800"}]


# --- non-finite floats ----------------------------------------------------------------------


@backends
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (float("nan"), b"null"),
        ([float("inf"), float("-inf")], b"[null,null]"),
        ({"v": float("nan"), "NaN": "Infinity"}, b'{"v":null,"NaN":"Infinity"}'),
        ({float("nan"): 1, float("inf"): 2}, b'{"NaN":1,"Infinity":2}'),  # as JavaScript's String()
        (['a"NaN', "\\", "-Infinity", float("inf")], b'["a\\"NaN","\\\\","-Infinity",null]'),
        (
            [Slot(datetime.time(9), True), {"x": float("nan")}, "\ud800"],
            b'[{"start":"09:00:00","free":true},{"x":null},"' + FFFD_UTF8 + b'"]',
        ),
    ],
)
def test_non_finite_floats_become_null(dumps: Dumps, value: Any, expected: bytes) -> None:
    # As JavaScript's JSON.stringify writes them.
    assert dumps(value) == expected


# --- what cannot be encoded -----------------------------------------------------------------


def _cycle_list() -> Any:
    value: list[Any] = []
    value.append(value)
    return value


def _cycle_dict() -> Any:
    value: dict[str, Any] = {}
    value["self"] = [value]
    return value


def _cycle_dataclass() -> Any:
    day = Day([], {})
    day.note = day
    return day


UNENCODABLE = {
    "object": {"x": object()},
    "bytes": {"x": b"audio"},
    "bytearray": [bytearray(b"x")],
    "complex": 1j,
    "type": int,
    "function": [len],
    "generator": (n for n in range(3)),
    "cycle list": _cycle_list(),
    "cycle dict": _cycle_dict(),
    "cycle dataclass": _cycle_dataclass(),
    "too deep": nested_list(100_000),
    "too deep in a dict": {"a": nested_list(50_000)},
    "tuple key": {(1, 2): "x"},
    "enum key": {Color.RED: "x"},
    "date key": {datetime.date(2026, 1, 1): "x"},
    "object in a dataclass": Day([], {}, object()),
}


@backends
@pytest.mark.parametrize("value", UNENCODABLE.values(), ids=UNENCODABLE.keys())
def test_unencodable_values_raise_encode_error(dumps: Dumps, value: Any) -> None:
    with pytest.raises(jsonio.EncodeError) as caught:
        dumps(value)
    assert type(caught.value) in (TypeError, ValueError)


def test_encode_error_members() -> None:
    assert jsonio.EncodeError == (TypeError, ValueError)


@backends
def test_unknown_type_raises_type_error(dumps: Dumps) -> None:
    with pytest.raises(TypeError, match="object"):
        dumps({"x": object()})


@backends
def test_cycle_raises_value_error(dumps: Dumps) -> None:
    with pytest.raises(ValueError, match="Circular"):
        dumps(_cycle_list())


# --- backends -------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"{", b"\xff", b"", b"[1,]"])
def test_invalid_json_raises_decode_error(data: bytes) -> None:
    with pytest.raises(jsonio.DecodeError):
        jsonio.loads(data)
    with pytest.raises(jsonio.DecodeError):
        jsonio._stdlib_loads(data)


def test_public_dumps_is_one_of_the_backends() -> None:
    expected = jsonio._orjson_dumps if jsonio.orjson is not None else jsonio._stdlib_dumps
    assert jsonio.dumps is expected


def test_stdlib_backend_without_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "orjson", None)  # makes "import orjson" fail
    try:
        reloaded = importlib.reload(jsonio)
        assert reloaded.BACKEND == "json"
        assert reloaded.loads(b'{"a": [1]}') == {"a": [1]}
        assert reloaded.loads(rb'"\ud800"') == "\ufffd"
        assert reloaded.dumps({"a": 1}) == b'{"a":1}'
        assert reloaded.dumps("\ud800") == b'"' + FFFD_UTF8 + b'"'
    finally:
        monkeypatch.undo()
        importlib.reload(jsonio)
