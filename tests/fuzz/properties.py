"""The webhook's promise as hypothesis properties, shared by the tests and benchmarks/fuzz.py."""

from __future__ import annotations

import copy
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from flask_vapi.catalogue import ANSWERS

from ..conftest import SECRET
from . import strategies as s
from .harness import (
    HEADERS,
    MAX_CONTENT_LENGTH,
    RESPONSE_DEFINITIONS,
    RETURNS,
    TOOL_NAMES,
    Answer,
    assert_answer,
    assert_function_result,
    assert_tool_results,
    assert_valid,
    message_of,
    post,
)

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    # Nothing of hypothesis' (its constants cache; the database is off) lands in the repo.
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "flask-vapi-hypothesis")

settings.register_profile(
    "fuzz",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    report_multiple_bugs=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@dataclass(frozen=True)
class Property:
    """A named property: ``check(example)`` posts the example and asserts the promise."""

    #: An identifier: hypothesis names the failing example after it.
    name: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], Answer]

    def run(
        self,
        examples: settings,
        observe: Callable[[Any], Any] | None = None,
        seed: int | None = None,
    ) -> None:
        """Check the property on hypothesis' examples (``observe`` wraps each check)."""
        check = observe or self.check

        def example(s: Any) -> None:
            check(s)

        example.__name__ = example.__qualname__ = self.name  # named in hypothesis' report
        chosen = examples if seed is None else settings(examples, derandomize=False)
        test = settings(chosen)(given(s=self.strategy)(example))
        if seed is not None:
            test = hypothesis.seed(seed)(test)
        test()

    def __repr__(self) -> str:
        return f"Property({self.name!r})"


def _parsed(data: bytes) -> Any:
    """The request as a stdlib parser reads it (``None`` when it cannot)."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None


# -- 1. bodies ---------------------------------------------------------------------------

CRAFTED_BODIES = [  # the Body strategies cover these too; here every run has them
    b"",
    b"\xef\xbb\xbf{}",  # UTF-8 BOM
    b'{"message":{"type":"\xed\xa0\x80"}}',  # raw lone surrogate bytes
    b'{"message":{"type":"\\ud800"}}',
    b'{"message":{"type":"hang","x":NaN}}',
    b'{"message":{"type":"hang","x":Infinity}}',
    b'{"message":{"type":"hang","x":-Infinity}}',
    '{"message":{"type":"hang"}}'.encode("utf-16"),
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'{"message":' + b" " * MAX_CONTENT_LENGTH + b"}",
    b"\x00",
    b"null",
    b'"\\udc00"',
]
METHODS = st.sampled_from(["POST"] * 8 + ["GET", "PUT", "DELETE", "PROPFIND"])
AUTHS = st.sampled_from(["right"] * 8 + ["missing", "wrong"])


def _headers(auth: str) -> dict[str, str]:
    if auth == "right":
        return HEADERS
    headers = {"Content-Type": "application/json"}
    if auth == "wrong":
        headers["X-Vapi-Secret"] = SECRET[:-1]
    return headers


def _check_bytes(example: tuple[Any, str, str]) -> Answer:
    body, method, auth = example
    data = CRAFTED_BODIES[body] if isinstance(body, int) else body
    answer = post(data, method=method, headers=_headers(auth))
    if method == "POST" and auth == "right":
        assert_answer(message_of(_parsed(data)), answer)
    return answer


def _check_json(body: s.Body) -> Answer:
    data = body.data
    answer = post(data)
    assert_answer(message_of(_parsed(data)), answer)
    return answer


BYTES = Property(
    "bodies_bytes",
    st.tuples(
        st.one_of(st.binary(max_size=64), st.integers(0, len(CRAFTED_BODIES) - 1)),
        METHODS,
        AUTHS,
    ),
    _check_bytes,
)
JSON_VALUES = Property(
    "bodies_json_values",
    s.json_text(st.one_of(s.json_values(), s.DEEP)),
    _check_json,
)
ENVELOPES = Property("bodies_envelopes", s.json_text(s.envelopes()), _check_json)
PAYLOADS = Property("bodies_mutated_payloads", s.json_text(s.mutated_payload()), _check_json)


# -- 2. tool arguments ---------------------------------------------------------------------

BOOKING_KEYS = ["patientName", "dateOfBirth", "doctor", "date", "time", "party"]
ARGUMENT_OBJECTS = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(BOOKING_KEYS), s.TEXT), s.json_values(8)),
    st.fixed_dictionaries({key: st.one_of(s.TEXT, s.json_values(4)) for key in BOOKING_KEYS[:5]}),
    st.builds(lambda d: {"date": "2026-09-08", "party": d}, s.JSON_SCALARS),
)


@st.composite
def _arguments(draw: st.DrawFn) -> Any:
    """Tool arguments as Vapi sends them: an object, a JSON string, anything else."""
    value = draw(
        st.one_of(
            ARGUMENT_OBJECTS,
            s.json_values(6),
            st.builds(lambda d: s.Deep(d, "{", {}), s.DEPTHS),
            s.DEEP,
        )
    )
    if draw(st.booleans()):
        return s.AsText(value, draw(st.booleans()))  # "arguments": "<JSON text>"
    return value


SIMPLE_IDS = st.sampled_from(["call_0", "call_1", "call_2"])
CALL_IDS = st.one_of(SIMPLE_IDS, s.TEXT)


@st.composite
def _tool_calls_body(
    draw: st.DrawFn,
    names: list[str],
    arguments: st.SearchStrategy[Any],
    ids: st.SearchStrategy[Any] = CALL_IDS,
    ascii_only: st.SearchStrategy[bool] = s.BOOLEANS,
) -> s.Body:
    """A ``tool-calls`` (or legacy ``function-call``) body calling ``names``."""
    if draw(st.integers(0, 4)) == 0:
        message = copy.deepcopy(s.PAYLOADS["function-call"])
        message["functionCall"] = {
            "name": draw(st.sampled_from(names)),
            "parameters": draw(arguments),
        }
    else:
        message = copy.deepcopy(s.PAYLOADS["tool-calls"])
        message.pop("toolWithToolCallList", None)
        message["toolCallList"] = [
            {
                "id": draw(ids),
                "type": "function",
                "function": {"name": draw(st.sampled_from(names)), "arguments": draw(arguments)},
            }
            for _ in range(draw(st.integers(1, 3)))
        ]
    return s.Body({"message": message}, draw(ascii_only))


def _check_tool_call(body: s.Body) -> Answer:
    data = body.data
    answer = post(data)
    message = message_of(_parsed(data))
    if answer.status == 200:
        assert message is not None
        if message["type"] == "tool-calls":
            assert_tool_results(message, answer.body)
        else:
            assert_function_result(answer.body)
    return answer


TOOL_ARGUMENTS = Property(
    "tool_arguments",
    _tool_calls_body([*TOOL_NAMES[:3], "noSuchTool"], _arguments()),
    _check_tool_call,
)


# -- 3. handler return values --------------------------------------------------------------


def _check_tool_return(example: tuple[s.Body, Any]) -> Answer:
    body, returned = example
    RETURNS.value, RETURNS.called = returned, 0
    answer = _check_tool_call(body)
    assert answer.status == 200, answer.body
    assert RETURNS.called >= 1
    return answer


TOOL_RETURNS = Property(
    "tool_return_values",
    st.tuples(
        _tool_calls_body(["returnValue"], st.just({}), SIMPLE_IDS, st.just(True)),
        s.tool_return_values(),
    ),
    _check_tool_return,
)

RESPONDED = sorted(ANSWERS)
_NOT_PLAIN = object()


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` if it is plain JSON data every encoder writes the same way, else a marker."""
    if depth > 50:  # deep, or a cycle
        return _NOT_PLAIN
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else _NOT_PLAIN
    if isinstance(value, float):
        return value if math.isfinite(value) else _NOT_PLAIN
    if isinstance(value, str):
        surrogate = any(0xD800 <= ord(char) <= 0xDFFF for char in value)
        return _NOT_PLAIN if surrogate else value
    if isinstance(value, list):
        items = [_plain(item, depth + 1) for item in value]
        return _NOT_PLAIN if any(item is _NOT_PLAIN for item in items) else items
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        items = {key: _plain(item, depth + 1) for key, item in value.items()}
        return _NOT_PLAIN if any(item is _NOT_PLAIN for item in items.values()) else items
    return _NOT_PLAIN


@st.composite
def _responder_example(draw: st.DrawFn) -> tuple[str, Any]:
    return draw(st.sampled_from(RESPONDED)), draw(s.responder_return_values())


def _check_responder_return(example: tuple[str, Any]) -> Answer:
    kind, returned = example
    RETURNS.value, RETURNS.called = returned, 0
    answer = post(json.dumps({"message": s.PAYLOADS[kind]}).encode())
    assert answer.status == 200, answer.body
    assert RETURNS.called == 1
    if kind == "voice-request":
        assert answer.mimetype == "application/octet-stream", answer.mimetype
        return answer
    assert_valid(RESPONSE_DEFINITIONS[kind], answer.body)
    plain = _plain(returned)
    if answer.body != ANSWERS[kind].fallback and plain is not _NOT_PLAIN:
        assert answer.body == plain, "the answer is neither the fallback nor what was returned"
    return answer


RESPONDER_RETURNS = Property(
    "responder_return_values", _responder_example(), _check_responder_return
)

#: Every property, in the order they are reported.
PROPERTIES = [
    BYTES,
    JSON_VALUES,
    ENVELOPES,
    PAYLOADS,
    TOOL_ARGUMENTS,
    TOOL_RETURNS,
    RESPONDER_RETURNS,
]
