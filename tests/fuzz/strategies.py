"""Hypothesis strategies: JSON text as Vapi might send it, and values a handler might return."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import decimal
import enum
import fractions
import ipaddress
import json
import pathlib
import uuid
from collections.abc import Iterator
from typing import Any

from flask import Response
from hypothesis import strategies as st

from flask_vapi import payloads
from flask_vapi.catalogue import MESSAGE_KINDS
from flask_vapi.tools import ToolResult

# -- JSON values ------------------------------------------------------------------------

LONE_SURROGATES = st.characters(categories=["Cs"])  # U+D800..U+DFFF, never valid alone
CHARACTERS = st.one_of(st.characters(), LONE_SURROGATES)
TRICKY_TEXT = st.sampled_from(
    ["", "\ud800", "a\udfffb", "\udc00\ud800", "\x00", "\ufeff", "null", "\u2028"]
)
TEXT = st.one_of(st.text(max_size=12), st.text(CHARACTERS, max_size=8), TRICKY_TEXT)
INTEGERS = st.one_of(
    st.integers(-(2**70), 2**70), st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**40])
)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
BOOLEANS = st.booleans()
JSON_SCALARS = st.one_of(st.none(), st.booleans(), INTEGERS, FLOATS, TEXT)


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """JSON data, with what JSON text can carry beyond JSON: NaN, Infinity, lone surrogates."""
    return st.recursive(
        JSON_SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


@dataclasses.dataclass(frozen=True)
class Deep:
    """A value nested ``depth`` levels deep in arrays (``[``) or objects (``{``), as JSON text."""

    depth: int
    bracket: str
    inner: Any = None


DEPTHS = st.sampled_from([2, 64, 255, 256, 513, 1000, 1025, 2000, 100_000])
DEEP = st.builds(Deep, DEPTHS, st.sampled_from("[{"), JSON_SCALARS)


@dataclasses.dataclass(frozen=True)
class AsText:
    """``value`` sent as a JSON string holding its JSON text (as tool arguments may be)."""

    value: Any
    ascii_only: bool = True


def to_text(value: Any, ascii_only: bool) -> str:
    """JSON text of ``value``: NaN/Infinity as literals, lone surrogates escaped or raw."""
    if isinstance(value, AsText):
        return json.dumps(to_text(value.value, value.ascii_only), ensure_ascii=ascii_only)
    if isinstance(value, Deep):
        inner = to_text(value.inner, ascii_only)
        if value.bracket == "[":
            return "[" * value.depth + inner + "]" * value.depth
        return '{"a":' * value.depth + inner + "}" * value.depth
    if isinstance(value, dict):
        items = (
            f"{to_text(str(k), ascii_only)}:{to_text(v, ascii_only)}" for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(to_text(item, ascii_only) for item in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)  # NaN -> NaN, "\ud800" -> "\ud800"


@dataclasses.dataclass(frozen=True)
class Body:
    """A request body: ``value`` as JSON text in ``encoding`` (kept unencoded so that
    hypothesis reports a short example, not 200 kB of brackets)."""

    value: Any
    ascii_only: bool = True
    encoding: str = "utf-8"

    @property
    def data(self) -> bytes:
        """The bytes sent: lone surrogates escaped (ascii_only) or raw (``ED A0 80``)."""
        return to_text(self.value, self.ascii_only).encode(self.encoding, "surrogatepass")


ENCODINGS = st.sampled_from(
    ["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32"]
)


def json_text(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Body]:
    """``values`` as JSON bodies: escaped or raw surrogates, BOMs, UTF-16/32."""
    return st.builds(Body, values, st.booleans(), ENCODINGS)


# -- Vapi envelopes ---------------------------------------------------------------------

KNOWN_TYPES = sorted(MESSAGE_KINDS)
MESSAGE_TYPES = st.one_of(st.sampled_from(KNOWN_TYPES), TEXT)
#: One realistic payload per known type, built once (copied before each mutation).
PAYLOADS: dict[str, dict[str, Any]] = {kind: payloads.make(kind) for kind in KNOWN_TYPES}


@st.composite
def envelopes(draw: st.DrawFn) -> Any:
    """``{"message": {"type": <known or random>, ...random fields}}``."""
    message = draw(st.dictionaries(TEXT, json_values(6), max_size=5))
    message["type"] = draw(MESSAGE_TYPES)
    return {"message": message}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a field or list item inside ``value``."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        yield (*prefix, key)
        yield from _paths(item, (*prefix, key))


@st.composite
def mutated_payload(draw: st.DrawFn, kind: str | None = None) -> Any:
    """A realistic payload of ``kind`` (default: any type) with a few fields deleted,
    replaced by random JSON values, or nested deeply; then wrapped in the envelope."""
    kind = kind or draw(st.sampled_from(KNOWN_TYPES))
    message = copy.deepcopy(PAYLOADS[kind])
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(message))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = message
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        how = draw(st.sampled_from(["delete", "replace", "nest"]))
        if how == "delete":
            del parent[key]
        elif how == "replace":
            parent[key] = draw(json_values(8))
        else:
            parent[key] = Deep(draw(DEPTHS), draw(st.sampled_from("[{")), parent[key])
            # A Deep value has no paths inside: later mutations pick other fields.
    return {"message": message}


# -- handler return values --------------------------------------------------------------


class Opaque:
    """An object no JSON encoder knows."""


class Colour(enum.Enum):
    RED = "red"
    NESTED = {"x": object()}  # noqa: RUF012 - an enum value that is itself not encodable


@dataclasses.dataclass
class Record:
    value: Any


def _cyclic_list(inner: Any) -> list[Any]:
    items: list[Any] = [inner]
    items.append(items)
    return items


def _cyclic_dict(inner: Any) -> dict[str, Any]:
    mapping: dict[str, Any] = {"value": inner}
    mapping["self"] = mapping
    return mapping


def _generator(items: list[Any]) -> Iterator[Any]:
    yield from items


def _failing_generator(items: list[Any]) -> Iterator[Any]:
    yield from items
    raise RuntimeError("generator failed halfway")


FROM_TYPE = st.sampled_from(
    [
        int,
        float,
        complex,
        str,
        bytes,
        bytearray,
        range,
        decimal.Decimal,
        fractions.Fraction,
        datetime.datetime,
        datetime.date,
        datetime.time,
        datetime.timedelta,
        uuid.UUID,
        ipaddress.IPv4Address,
        type,
    ]
).flatmap(st.from_type)
PY_SCALARS = st.one_of(
    JSON_SCALARS,
    FROM_TYPE,
    st.binary(max_size=8),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from(Colour),
    st.builds(object),
    st.builds(pathlib.PurePosixPath, st.text(max_size=5)),
    st.builds(Opaque),
    st.just(Ellipsis),
    st.builds(lambda body: Response(body, 200), st.binary(max_size=8)),
)
HASHABLE_KEYS = st.one_of(TEXT, INTEGERS, FLOATS, st.none(), st.booleans(), st.tuples(TEXT))


def python_values(max_leaves: int = 10) -> st.SearchStrategy[Any]:
    """Anything a handler might return: containers of JSON and non-JSON values, sets,
    tuples, non-string keys, dataclasses, cycles, generators, Flask responses."""
    return st.recursive(
        PY_SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.lists(inner, max_size=3).map(tuple),
            st.frozensets(HASHABLE_KEYS, max_size=3),
            st.sets(HASHABLE_KEYS, max_size=3),
            st.dictionaries(HASHABLE_KEYS, inner, max_size=3),
            st.builds(Record, inner),
            st.builds(_cyclic_list, inner),
            st.builds(_cyclic_dict, inner),
            st.builds(_generator, st.lists(inner, max_size=3)),
        ),
        max_leaves=max_leaves,
    )


def tool_results(values: st.SearchStrategy[Any]) -> st.SearchStrategy[ToolResult]:
    """``ToolResult`` with random result, error text, spoken message and metadata."""
    return st.builds(
        ToolResult,
        result=values,
        error=st.one_of(st.none(), TEXT),
        message=st.one_of(st.none(), TEXT, st.dictionaries(TEXT, values, max_size=3)),
        metadata=st.one_of(st.none(), st.dictionaries(HASHABLE_KEYS, values, max_size=3)),
    )


def tool_return_values() -> st.SearchStrategy[Any]:
    """What a tool handler returns: anything, or a ``ToolResult`` holding anything."""
    values = python_values()
    return st.one_of(values, tool_results(values))


#: Keys of the answers Vapi accepts from responders (so random answers are often valid).
ANSWER_KEYS = st.sampled_from(
    [
        "assistantId",
        "assistant",
        "squadId",
        "destination",
        "error",
        "documents",
        "message",
        "timeoutSeconds",
        "eligible",
        "assistantOverrides",
    ]
)
ANSWER_SHAPES = st.one_of(
    st.builds(lambda v: {"assistantId": v}, TEXT),
    st.builds(lambda v: {"error": v}, TEXT),
    st.builds(lambda v: {"timeoutSeconds": v}, FLOATS),
    st.builds(lambda v: {"eligible": v}, st.booleans()),
    st.builds(lambda v: {"destination": {"type": "number", "number": v}}, TEXT),
    st.builds(
        lambda c, s: {"documents": [{"content": c, "similarity": s}]},
        TEXT,
        FLOATS,
    ),
)


def responder_return_values() -> st.SearchStrategy[Any]:
    """What a responder returns: anything, answer-shaped dicts, PCM bytes, streams."""
    values = python_values()
    chunks = st.lists(st.one_of(st.binary(max_size=8), values), max_size=3)
    return st.one_of(
        values,
        ANSWER_SHAPES,
        st.dictionaries(ANSWER_KEYS, st.one_of(values, json_values(6)), min_size=1, max_size=3),
        st.binary(max_size=16),
        st.builds(_generator, chunks),
        st.builds(_failing_generator, chunks),
    )
