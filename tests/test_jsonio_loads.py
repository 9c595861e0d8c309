"""jsonio.loads: one decoding policy, checked on the stdlib and the orjson backend alike."""

from __future__ import annotations

import json
import random
import re
from typing import Any, Callable

import pytest

from flask_vapi import jsonio
from flask_vapi.payloads import make_end_of_call_report

from .conftest import HEADERS

Loads = Callable[[bytes], Any]
BACKENDS = [
    pytest.param(jsonio._stdlib_loads, id="json"),
    pytest.param(jsonio._orjson_loads, id="orjson"),
]
backends = pytest.mark.parametrize("loads", BACKENDS)

FFFD = "\ufffd"


def nested(depth: int, open_: bytes = b"[", close: bytes = b"]") -> bytes:
    return open_ * depth + close * depth


def outcome(loads: Loads, data: bytes) -> tuple[str, str]:
    """("ok", repr of the value) or ("error", ""); repr tells 1 from 1.0 and True from 1."""
    try:
        return "ok", repr(loads(data))
    except jsonio.DecodeError:
        return "error", ""


# --- escaped surrogates ---------------------------------------------------------------------


@backends
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (rb'"\ud800"', FFFD),  # lone high
        (rb'"\udc00"', FFFD),  # lone low
        (rb'"\uDBFF"', FFFD),  # upper-case hex
        (rb'"ab\ud83d"', "ab" + FFFD),  # a transcript cut mid-emoji, as Node writes it
        (rb'"\ud800x"', FFFD + "x"),  # high followed by text
        (rb'"\ud800\u0041"', FFFD + "A"),  # high followed by a non-surrogate escape
        (rb'"\ud800\ud800"', FFFD * 2),  # two highs
        (rb'"\udc00\ud800"', FFFD * 2),  # low then high: not a pair
        (rb'"\ud800\ud83d\ude00"', FFFD + "\U0001f600"),  # lone high, then a real pair
        (rb'"\ud83d\ude00\udc00"', "\U0001f600" + FFFD),  # a real pair, then a lone low
        ('"\\ud800\U0001f600"'.encode(), FFFD + "\U0001f600"),  # high, then a raw emoji
        (rb'"\"\ud800"', '"' + FFFD),  # after an escaped quote
    ],
)
def test_escaped_lone_surrogates_become_replacement_characters(
    loads: Loads, data: bytes, expected: str
) -> None:
    assert loads(data) == expected


@backends
def test_lone_surrogates_in_keys_and_nested_values(loads: Loads) -> None:
    data = rb'{"\udfff": [1, {"transcript": "hi \ud83d"}], "ok": "\ud83d\ude00"}'
    assert loads(data) == {FFFD: [1, {"transcript": "hi " + FFFD}], "ok": "\U0001f600"}


@backends
@pytest.mark.parametrize(
    "data", [rb'"\ud83d\ude00"', rb'"\uD83D\uDE00"', rb'"\udbff\udfff"', rb'"\ud800\udc00"']
)
def test_escaped_pairs_stay_one_character(loads: Loads, data: bytes) -> None:
    assert loads(data) == json.loads(data.decode("ascii"))
    assert len(loads(data)) == 1
    assert FFFD not in loads(data)


@backends
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # JSON \\ is one backslash: what follows is plain text, not an escape.
        (rb'"\\ud800"', "\\ud800"),
        (rb'"\\\\ud800"', "\\\\ud800"),
        (rb'"\\\ud800"', "\\" + FFFD),  # one backslash, then a real lone escape
        (rb'"\\ud83d\ude00"', "\\ud83d" + FFFD),  # text, then a lone low escape
        (rb'"\\ud83d\\ude00"', "\\ud83d\\ude00"),
        (rb'{"\\ud800": "\\udc00"}', {"\\ud800": "\\udc00"}),
    ],
)
def test_escaped_backslash_is_not_an_escape(loads: Loads, data: bytes, expected: Any) -> None:
    assert loads(data) == expected


SURROGATE_TOKENS = [
    rb"\ud800",
    rb"\udbff",
    rb"\ud83d",
    rb"\uD83D",
    rb"\ude00",
    rb"\udc00",
    rb"\uDFFF",
    rb"\\",
    rb"\\u",
    rb"u",
    rb"d83d",
    rb"\"",
    rb"a",
    rb"\u0041",
    rb"\n",
    "é".encode(),
]


def _oracle(data: bytes) -> str:
    # The old stdlib reading (pairs combined, lone surrogates kept), then U+FFFD for each.
    value: str = json.loads(data.decode("utf-8"))
    return re.sub("[\ud800-\udfff]", FFFD, value)


@backends
def test_surrogate_repair_matches_an_independent_reading(loads: Loads) -> None:
    rng = random.Random(8259)
    for _ in range(3000):
        data = b'"' + b"".join(rng.choices(SURROGATE_TOKENS, k=rng.randint(1, 8))) + b'"'
        assert loads(data) == _oracle(data), data


@backends
@pytest.mark.parametrize(
    "data",
    [
        rb'"\ud800" x',  # a lone surrogate does not hide trailing garbage
        rb'["\ud800", NaN]',
        rb'["\ud800",]',
        b'"\xed\xa0\x80\\ud800"',  # nor a raw surrogate
        b'"\\ud800\xff"',
    ],
)
def test_surrogate_repair_does_not_hide_other_errors(loads: Loads, data: bytes) -> None:
    with pytest.raises(jsonio.DecodeError):
        loads(data)


# --- refused inputs -------------------------------------------------------------------------


REFUSED = {
    "NaN": b"NaN",
    "Infinity": b"Infinity",
    "-Infinity": b"-Infinity",
    "NaN in array": b"[1, NaN]",
    "Infinity in object": b'{"a": Infinity}',
    "-Infinity in object": b'{"a": -Infinity}',
    "UTF-8 BOM": b'\xef\xbb\xbf{"a": 1}',
    "UTF-16 LE with BOM": '{"a": 1}'.encode("utf-16"),
    "UTF-16 LE": '{"a": 1}'.encode("utf-16-le"),
    "UTF-16 BE": '{"a": 1}'.encode("utf-16-be"),
    "UTF-16 string": '"é"'.encode("utf-16-le"),
    "UTF-32": '{"a": 1}'.encode("utf-32"),
    "UTF-32 BE": "[1]".encode("utf-32-be"),
    "invalid byte": b'"\xff"',
    "Latin-1 text": '"café"'.encode("latin-1"),
    "overlong NUL": b'"\xc0\x80"',
    "truncated sequence": b'"\xe2\x82"',
    "beyond U+10FFFF": b'"\xf4\x90\x80\x80"',
    "raw high surrogate": b'"\xed\xa0\x80"',
    "raw low surrogate": b'"\xed\xb0\x80"',
    "raw surrogate pair (CESU-8)": b'"\xed\xa0\xbd\xed\xb8\x80"',
    "raw surrogate in a key": b'{"\xed\xa0\x80": 1}',
    "trailing word": b"{} x",
    "two documents": b"{}{}",
    "two numbers": b"1 2",
    "trailing NUL": b"{}\x00",
    "trailing comma": b"[1,]",
    "empty": b"",
    "whitespace only": b" \n\t",
    "unclosed": b"{",
}


@backends
@pytest.mark.parametrize("data", REFUSED.values(), ids=REFUSED.keys())
def test_refused(loads: Loads, data: bytes) -> None:
    with pytest.raises(jsonio.DecodeError):
        loads(data)


# --- nesting depth --------------------------------------------------------------------------


@backends
@pytest.mark.parametrize(
    "data",
    [
        nested(100_000),
        nested(100_000, b'{"a":', b"}"),
        nested(5_000, b'[{"k":', b"}]"),
        nested(100_000)[:-1],  # deep and unclosed
        b'["\\ud800", ' + nested(100_000) + b"]",  # deep and needing the surrogate repair
    ],
    ids=["arrays", "objects", "mixed", "unclosed", "with-surrogate"],
)
def test_very_deep_nesting_is_a_decode_error(loads: Loads, data: bytes) -> None:
    with pytest.raises(jsonio.DecodeError) as caught:
        loads(data)
    assert not isinstance(caught.value, RecursionError)


@backends
def test_moderate_nesting_is_accepted(loads: Loads) -> None:
    value = loads(nested(200, b'{"a":[', b"]}"))
    for _ in range(200):
        value = value["a"][0] if value["a"] else None
    assert value is None


def test_orjson_depth_limit_is_1024() -> None:
    # orjson's documented limit; the module docstring states it.
    assert jsonio._orjson_loads(nested(1024)) is not None
    with pytest.raises(jsonio.DecodeError):
        jsonio._orjson_loads(nested(1025))


# --- both backends agree ----------------------------------------------------------------------

CORPUS: list[bytes] = [
    *REFUSED.values(),
    # numbers
    b"0",
    b"-0",
    b"0.0",
    b"-0.0",
    b"1E5",
    b"1e-5",
    b"1.5e+3",
    b"1.7976931348623157e308",
    b"5e-324",
    b"2.2250738585072014e-308",
    b"1e-400",
    b"0.1",
    b"123456789.123456789",
    b"9007199254740993",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"18446744073709551615",
    b"01",
    b"-",
    b"1.",
    b".5",
    b"+1",
    b"0x10",
    b"1e",
    b"--1",
    # literals
    b"true",
    b"false",
    b"null",
    b"True",
    b"nul",
    b"nan",
    b"inf",
    # structure and whitespace
    b' \t\r\n{"a" : [ 1 , 2 ] }\r\n',
    b"\x0c1",
    b"\xc2\xa01",
    b"[]",
    b"{}",
    b'{"a":1,"a":2}',
    b"{1: 2}",
    b"{'a': 1}",
    b"[1 2]",
    b'{"a" 1}',
    b"/* c */ 1",
    b"1 // c",
    # strings and escapes
    b'"\\u0000"',
    b'"\\/\\b\\f\\n\\r\\t\\"\\\\"',
    b'"\\x41"',
    b'"\\u12"',
    b'"\\U0041"',
    b'"\\u00e9\\u00E9"',
    b'"\x00"',
    b'"\x1f"',
    b'"\t"',
    b'"\x7f"',
    '"\u2028\u2029"'.encode(),
    '"\U0010ffff"'.encode(),
    '{"é": "ü", "😀": ["ß"]}'.encode(),
    rb'"\ud800"',
    rb'"\udc00\udc00"',
    rb'"\ud83d\ude00"',
    rb'"\\ud800"',
    rb'"\\\ud800"',
    rb'"\\\\\ud800\\"',
    rb'"\ud800',
    rb'"\ud8',
    rb'"\ud800\u"',
    rb'"\ud800\"',
    b"\\ud800",
    rb"[\ud800]",
    nested(200),
    nested(100_000),
]


@pytest.mark.parametrize("data", CORPUS)
def test_backends_agree_on_tricky_inputs(data: bytes) -> None:
    assert outcome(jsonio._orjson_loads, data) == outcome(jsonio._stdlib_loads, data)


def _mutations(seed: int, count: int) -> list[bytes]:
    base = (
        b'{"message": {"type": "transcript", "transcript": "h\\u00e9 \\ud83d\\ude00 \\ud83d",'
        b' "n": [1, -2.5e3, true, null, {"k\\\\u": "v\\"w"}], "t": 1733130000000}}'
    )
    alphabet = b'\\u"{}[],:0123456789eE.-+ dD8cfAtrnlsaN\xed\xa0\x80\xff\xc3\xa9'
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        data = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            action = rng.randrange(3)
            if action == 0:
                data[i] = rng.choice(alphabet)
            elif action == 1:
                data.insert(i, rng.choice(alphabet))
            else:
                del data[i]
        out.append(bytes(data))
    return out


def test_backends_agree_on_mutated_messages() -> None:
    out_of_range = re.compile(rb"\d{19}|[eE]\+?\d{3}")  # documented differences
    for data in _mutations(seed=20261201, count=3000):
        if out_of_range.search(data):
            continue
        assert outcome(jsonio._orjson_loads, data) == outcome(jsonio._stdlib_loads, data), data


# --- documented differences -----------------------------------------------------------------


def test_documented_number_differences() -> None:
    # Integers outside the 64-bit range: orjson reads a float, the stdlib an exact int.
    assert jsonio._orjson_loads(b"18446744073709551616") == 18446744073709551616.0
    assert isinstance(jsonio._orjson_loads(b"18446744073709551616"), float)
    assert jsonio._stdlib_loads(b"18446744073709551616") == 18446744073709551616
    # Numbers too large for a double: orjson refuses them, the stdlib reads infinity.
    with pytest.raises(jsonio.DecodeError):
        jsonio._orjson_loads(b"1e400")
    assert jsonio._stdlib_loads(b"1e400") == float("inf")


# --- the repair stays off the fast path -----------------------------------------------------


@backends
def test_valid_bodies_skip_the_surrogate_repair(
    loads: Loads, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(data: bytes) -> bytes:
        raise AssertionError("the surrogate repair ran on a body that did not need it")

    monkeypatch.setattr(jsonio, "_repair_surrogate_escapes", forbidden)
    body = '{"message": {"type": "x", "t": "é 😀 \\u00e9 \\n \\\\"}}'.encode()
    assert loads(body)["message"]["t"] == "é 😀 é \n \\"
    with pytest.raises(jsonio.DecodeError):
        loads(b'{"bad": ')


def test_public_loads_is_one_of_the_backends() -> None:
    expected = jsonio._orjson_loads if jsonio.orjson is not None else jsonio._stdlib_loads
    assert jsonio.loads is expected
    assert jsonio.loads(rb'"\ud800"') == FFFD


# --- through the webhook --------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the test with jsonio.loads set to one backend."""
    monkeypatch.setattr(jsonio, "loads", request.param)


@pytest.mark.usefixtures("backend")
def test_report_cut_mid_emoji_is_delivered(client: Any, received: Any) -> None:
    report = make_end_of_call_report()
    report["artifact"]["transcript"] = "AI: see you \ud83d"
    body = json.dumps({"message": report}).encode()  # ensure_ascii: "\\ud83d", as Node writes it
    assert rb"\ud83d" in body
    response = client.post("/vapi/webhook", data=body, headers=HEADERS)
    assert response.status_code == 200
    message = received.of("end_of_call_report")[0]["message"]
    assert message.artifact.transcript == "AI: see you \ufffd"


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize(
    "body", [b'{"message": ' + nested(100_000) + b"}", b'{"message": {"type": NaN}}']
)
def test_refused_bodies_are_400_invalid_json(client: Any, body: bytes) -> None:
    response = client.post("/vapi/webhook", data=body, headers=HEADERS)
    assert (response.status_code, response.get_json()["code"]) == (400, "invalid_json")
