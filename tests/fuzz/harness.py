"""The fuzzed app (secret auth, typed tools, every responder) and the webhook promise as asserts."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from marshmallow import Schema, fields

from flask_vapi import VapiBlueprint
from flask_vapi.catalogue import ANSWERS

from ..conftest import SCHEMA_PATH, SECRET

URL = "/vapi/webhook"
HEADERS = {"X-Vapi-Secret": SECRET, "Content-Type": "application/json"}
#: The statuses the webhook documents (tests/test_blueprint.py pins each of them).
DOCUMENTED_STATUSES = frozenset({200, 400, 401, 405, 413, 422})
ERROR_KEYS = frozenset({"code", "status", "message", "errors"})
PCM = "application/octet-stream"
#: Small enough that a fuzzed body can cross it.
MAX_CONTENT_LENGTH = 256 * 1024

#: Vapi's response definition of each answered type (tests/data/server-message.schema.json).
RESPONSE_DEFINITIONS = {
    "assistant-request": "ServerMessageResponseAssistantRequest",
    "handoff-destination-request": "ServerMessageResponseHandoffDestinationRequest",
    "knowledge-base-request": "ServerMessageResponseKnowledgeBaseRequest",
    "transfer-destination-request": "ServerMessageResponseTransferDestinationRequest",
    "call.endpointing.request": "ServerMessageResponseCallEndpointingRequest",
    "campaign.predial": "ServerMessageResponseCampaignPredial",
}


class Holder:
    """What the fuzzed tool and responders return for the current example (not thread-local:
    handlers run on the handler pool)."""

    value: Any = None
    called: int = 0


RETURNS = Holder()


class BookingSchema(Schema):
    date = fields.Date(required=True)
    party = fields.Integer()


def _register_handlers(vapi: VapiBlueprint) -> None:
    @vapi.tool
    def bookAppointment(
        patientName: str,
        dateOfBirth: str,
        doctor: str,
        date: str,
        time: str = "09:00",
    ) -> dict[str, Any]:
        """Typed parameters: the arguments come back in the result."""
        return {"who": patientName, "born": dateOfBirth, "with": doctor, "at": [date, time]}

    @vapi.tool
    def checkAvailability(**kwargs: Any) -> Any:
        """Any arguments: echoed as the result."""
        return kwargs

    @vapi.tool(schema=BookingSchema)
    def schedule(date: Any, party: int = 1) -> str:
        """Arguments checked by a marshmallow schema."""
        return f"{date.isoformat()} for {party}"

    @vapi.tool
    def returnValue(**kwargs: Any) -> Any:
        """Returns whatever the current example chose."""
        RETURNS.called += 1
        return RETURNS.value

    def respond(message: Any) -> Any:
        RETURNS.called += 1
        return RETURNS.value

    for message_type in ANSWERS:
        vapi.responder(message_type)(respond)


#: Tool names the fuzzed app has (calls to other names get an ``error`` result).
TOOL_NAMES = ["bookAppointment", "checkAvailability", "schedule", "returnValue"]


@functools.cache
def client() -> FlaskClient:
    """A test client of the one fuzzed app (built once: registration is not what is fuzzed)."""
    vapi = VapiBlueprint()
    _register_handlers(vapi)
    app = Flask("fuzzed_app")
    app.config.update(
        {
            "TESTING": True,
            "VAPI_SECRET": SECRET,
            "VAPI_MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
            # One app answers every example, and examples repeat ids and bodies: each one
            # must run its handlers (redelivery has tests of its own).
            "VAPI_DEDUPLICATE": False,
        }
    )
    app.register_blueprint(vapi)
    return app.test_client()


@functools.cache
def _validator(definition: str) -> Draft202012Validator:
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        defs = json.load(handle)["$defs"]
    return Draft202012Validator({"$defs": defs, "$ref": f"#/$defs/{definition}"})


def assert_valid(definition: str, body: Any) -> None:
    """``body`` is valid for Vapi's response ``definition``."""
    problems = [f"{list(e.path)}: {e.message}" for e in _validator(definition).iter_errors(body)]
    assert not problems, f"invalid {definition}: {problems}"


def _no_constant(name: str) -> Any:
    raise AssertionError(f"the response has the non-JSON literal {name}")


#: The status of the last answer (``None`` while a request raised), for benchmarks/fuzz.py.
LAST_STATUS: list[int | None] = [None]


@dataclass
class Answer:
    """One webhook answer that kept the promise: its status, content type and parsed body."""

    status: int
    mimetype: str
    data: bytes
    body: Any = field(default=None)


def post(data: bytes, *, method: str = "POST", headers: dict[str, str] | None = None) -> Answer:
    """Send ``data`` to the webhook and check the promise every answer keeps.

    Statuses in the documented set, never a 5xx; no traceback or secret in the body; a
    JSON body that any strict parser reads (UTF-8, no NaN), with the documented error
    shape for every non-200.  Voice answers (PCM) are the only non-JSON bodies.
    """
    LAST_STATUS[0] = None
    response = client().open(
        URL, method=method, data=data, headers=HEADERS if headers is None else headers
    )
    raw = response.get_data()  # also runs a streamed answer to its end
    status = LAST_STATUS[0] = response.status_code
    assert status < 500, f"HTTP {status}: {raw[:300]!r}"
    assert status in DOCUMENTED_STATUSES, f"undocumented HTTP {status}: {raw[:300]!r}"
    assert b"Traceback" not in raw, raw[:300]
    assert SECRET.encode() not in raw, "the configured VAPI_SECRET is in the response"
    answer = Answer(status, response.mimetype, raw)
    if response.mimetype == PCM:
        assert status == 200, f"PCM with HTTP {status}"
        return answer
    assert response.mimetype == "application/json", response.mimetype
    text = raw.decode("utf-8")  # strict: a lone surrogate is not UTF-8
    answer.body = json.loads(text, parse_constant=_no_constant)
    if status != 200:
        body = answer.body
        assert isinstance(body, dict), body
        assert set(body) <= ERROR_KEYS, body
        assert isinstance(body.get("code"), str) and body["code"], body
        assert body.get("status") == status, body
        assert isinstance(body.get("message"), str) and body["message"], body
        assert "errors" not in body or isinstance(body["errors"], dict), body
    return answer


def message_of(payload: Any) -> dict[str, Any] | None:
    """The ``message`` object of a request payload, if it has one."""
    if isinstance(payload, dict) and isinstance(payload.get("message"), dict):
        return payload["message"]
    return None


def tool_call_ids(message: dict[str, Any]) -> list[Any]:
    """The ids of the tool calls of a ``tool-calls`` message, as Vapi lists them."""
    calls = message.get("toolCallList")
    if calls is None:
        calls = message.get("toolCalls")  # the 2024 copy
    if not isinstance(calls, list):
        return []
    return [_as_sent(call.get("id")) if isinstance(call, dict) else None for call in calls]


def _as_sent(value: Any) -> Any:
    """A string as jsonio reads and writes it: lone surrogates become U+FFFD (its policy)."""
    if not isinstance(value, str):
        return value
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def assert_tool_results(message: dict[str, Any], body: Any) -> None:
    """One ``results`` entry per tool call, in order, each with its ``toolCallId``, its
    ``name`` and a ``result`` or an ``error`` string (Vapi's ``ToolCallResult``).

    A ``message`` dict is the handler's own (``ToolResult`` passes it through), so only
    its being an object is checked.
    """
    assert isinstance(body, dict) and isinstance(body.get("results"), list), body
    results = body["results"]
    assert [entry.get("toolCallId") for entry in results] == tool_call_ids(message), results
    for entry in results:
        assert isinstance(entry.get("result"), str) != isinstance(entry.get("error"), str), entry
        assert isinstance(entry.get("name"), str), entry
        assert isinstance(entry.get("metadata", {}), dict), entry
        assert isinstance(entry.get("message", {}), dict), entry


def assert_function_result(body: Any) -> None:
    """A legacy ``function-call`` answer: a ``result`` or an ``error`` string."""
    assert isinstance(body, dict), body
    assert isinstance(body.get("result"), str) != isinstance(body.get("error"), str), body


def assert_answer(message: dict[str, Any] | None, answer: Answer) -> None:
    """A 200 answer fits its message type: tool results, a valid responder answer, PCM."""
    if answer.status != 200 or message is None:
        return
    kind = message.get("type")
    if kind == "tool-calls":
        assert_tool_results(message, answer.body)
    elif kind == "function-call":
        assert_function_result(answer.body)
    elif kind == "voice-request":
        assert answer.mimetype == PCM, answer.mimetype
    elif kind in RESPONSE_DEFINITIONS:
        assert_valid(RESPONSE_DEFINITIONS[kind], answer.body)
    elif answer.mimetype != PCM:
        assert answer.body == {}, answer.body
