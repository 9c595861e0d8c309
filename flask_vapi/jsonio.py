"""JSON parsing and compact encoding, with orjson when installed (``flask-vapi[speed]``).

Both backends follow one policy, below. With orjson every repair runs only after orjson
refused the input, so its fast path is orjson itself; the stdlib :func:`loads` first looks
for escaped surrogates (about 5% of its parse time) because it would not refuse them.

:func:`loads` reads UTF-8 bytes and raises only :data:`DecodeError`:

- Refused: anything but one RFC 8259 value with optional whitespace around it, so trailing
  data, ``NaN``/``Infinity``/``-Infinity``, a UTF-8 byte order mark, UTF-16 and UTF-32
  bodies, and bytes that are not UTF-8, raw surrogates (``ED A0 80``) included.
- An escaped lone surrogate (``"\\ud83d"``, as Node writes a string cut mid-emoji) becomes
  U+FFFD; an escaped pair (``"\\ud83d\\ude00"``) is the one character it encodes.
- Nesting: orjson refuses more than 1024 levels; the stdlib refuses what its recursion guard
  stops (from about 990 levels less the caller's stack on CPython 3.9-3.11, about 1500 on
  3.12, about 10000 on 3.13). Both read a few hundred levels from any caller; Vapi's
  messages are a dozen or so levels deep.
- Numbers: an integer outside the 64-bit range is a float with orjson and an exact int with
  the stdlib; a number beyond the float range (``1e400``) is refused by orjson and read as
  infinity by the stdlib. Node writes such integers only for numbers past 2**53, which are
  doubles (orjson reads them exactly), and never a number beyond the float range.

:func:`dumps` writes compact UTF-8 and raises only :data:`EncodeError`:

- Lone surrogates in strings and keys become U+FFFD (a Python ``str`` holding a surrogate
  pair is two lone surrogates). NaN and infinities become ``null``, as in JavaScript.
- Datetimes, dates and times (ISO 8601), Decimal and UUID (strings), Enum (its value), sets
  and tuples (arrays) and dataclasses (objects) go through one ``_default``.
- Integers of any size (up to Python's 4300-digit limit); keys may be ``str``, ``int``,
  ``float``, ``bool`` or ``None``.
- TypeError for other types and keys; ValueError for a cycle, an integer over Python's
  digit limit, or a value nested deeper than the stdlib's recursion guard.
- Whatever orjson cannot encode goes to the stdlib encoder, so both backends encode and
  refuse the same values, to the same bytes except for floats with an exponent: orjson
  writes ``1e-7`` (some versions also ``1e16``) where the stdlib writes ``1e-07`` (``1e+16``).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import re
import uuid
from typing import Any, Callable

try:  # pragma: no cover - which branch runs depends on the environment
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]

#: Errors :func:`loads` raises for a body that is not JSON.
DecodeError: tuple[type[Exception], ...] = (ValueError,)
#: Errors :func:`dumps` raises for a value it cannot encode (catch these, not ``Exception``).
EncodeError: tuple[type[Exception], ...] = (TypeError, ValueError)

# Every escape, so an escaped backslash is consumed whole: a pair, a lone surrogate, other.
_ESCAPE = re.compile(
    rb"\\(?:u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    rb"|(u[dD][89a-fA-F][0-9a-fA-F]{2})|.)",
    re.DOTALL,
)
_SURROGATE = re.compile("[\ud800-\udfff]")
# A string token, or a non-finite number the lenient stdlib encoder wrote outside one.
_STRING_OR_NON_FINITE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|(-?Infinity|NaN)')


def _replacement(match: re.Match[bytes]) -> bytes:
    return b"\\ufffd" if match.group(1) else match.group(0)


def _repair_surrogate_escapes(data: bytes) -> bytes:
    """``data`` with each escaped lone surrogate replaced by ``\\ufffd``."""
    return _ESCAPE.sub(_replacement, data)


# Finds every escaped lone surrogate, and some that are not: a high escape without a low one
# after it, a low escape without a high one before it, or an escaped backslash before u[dD]
# (then the "high" before a low may be text). Every branch starts with a backslash, so the
# regex engine skips ahead quickly: about 5% of a stdlib parse of the same body.
_has_lone_surrogate_escape = re.compile(
    rb"\\(?:u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\)u[dD][c-fC-F]"
    rb"|\\u[dD])"
).search


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON.")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _stdlib_loads(data: bytes) -> Any:
    if _has_lone_surrogate_escape(data):
        data = _repair_surrogate_escapes(data)
    text = data.decode("utf-8")  # strict: no raw surrogates; a BOM is then refused as a value
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ValueError("The JSON is nested too deeply.") from None


def _orjson_loads(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        if not _has_lone_surrogate_escape(data):
            raise
        repaired = _repair_surrogate_escapes(data)
        if repaired == data:
            raise
    return orjson.loads(repaired)


def _default(value: Any) -> Any:
    """Encode the types tool handlers commonly return, identically with either backend."""
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # One level only: the encoder comes back here for nested dataclasses, which keeps
        # its cycle check (dataclasses.asdict would deep-copy and recurse without one).
        return {item.name: getattr(value, item.name) for item in dataclasses.fields(value)}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODER_OPTIONS: dict[str, Any] = {
    "separators": (",", ":"),
    "ensure_ascii": False,
    "default": _default,
}
_STRICT = json.JSONEncoder(allow_nan=False, **_ENCODER_OPTIONS)
_LENIENT = json.JSONEncoder(allow_nan=True, **_ENCODER_OPTIONS)


def _null(match: re.Match[str]) -> str:
    return "null" if match.group(1) else match.group(0)


def _stdlib_dumps(value: Any) -> bytes:
    try:
        try:
            text = _STRICT.encode(value)
        except ValueError:
            # A NaN or an infinity, or else the lenient encoder fails the same way.
            text = _STRING_OR_NON_FINITE.sub(_null, _LENIENT.encode(value))
    except RecursionError:
        raise ValueError("The value is nested too deeply to encode as JSON.") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def _orjson_dumps(value: Any) -> bytes:
    try:
        # Passthrough options route these types through ``_default`` so both backends agree.
        return orjson.dumps(
            value,
            default=_default,
            option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS,
        )
    except orjson.JSONEncodeError:
        # Surrogates, non-str keys, integers beyond 64 bits, depth, cycles, unknown types.
        return _stdlib_dumps(value)


loads: Callable[[bytes], Any]
dumps: Callable[[Any], bytes]
if orjson is not None:
    loads, dumps = _orjson_loads, _orjson_dumps
else:  # pragma: no cover
    loads, dumps = _stdlib_loads, _stdlib_dumps

#: The backend in use: ``"orjson"`` or ``"json"``.
BACKEND = "orjson" if orjson is not None else "json"
