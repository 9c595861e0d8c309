"""The plain-field fast path returns exactly what marshmallow returns, or defers to it."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from flask_vapi import models
from flask_vapi import payloads as p
from flask_vapi.catalogue import ANSWERS
from flask_vapi.models import fastload
from flask_vapi.models.base import VapiObject


def all_models(base: type[VapiObject] = VapiObject) -> list[type[VapiObject]]:
    found = []
    for sub in base.__subclasses__():
        found.append(sub)
        found.extend(all_models(sub))
    return sorted(set(found), key=lambda model: model.__name__)


def every_dict(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value, *(d for item in value.values() for d in every_dict(item))]
    if isinstance(value, list):
        return [d for item in value for d in every_dict(item)]
    return []


SAMPLES = [
    d
    for factory in p.FACTORIES.values()
    for d in every_dict(
        factory(messages=12) if "messages" in factory.__code__.co_varnames else factory()
    )
]
EDGES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1.5,
    1e308,
    10**400,
    float("nan"),
    float("inf"),
    "",
    "text",
    "1.5",
    "true",
    [],
    [1],
    {},
    {"a": 1},
    type("S", (str,), {})("sub"),
]
VALID = {
    fastload._string: "x",
    fastload._number: 1.0,
    fastload._boolean: True,
    fastload._object: {},
    fastload._any: 1,
}


def agree(model: type[VapiObject] | Schema, data: dict[str, Any]) -> None:
    schema = model if isinstance(model, Schema) else model.schema
    steps = fastload.plan(schema)
    assert steps is not None
    fast = fastload.load_plain(steps, data)
    try:
        slow = schema.load(data)
    except ValidationError:
        assert fast is None, (schema, data)
        return
    if fast is not None:
        assert fast == slow, (schema, data)


PLANNED = [model for model in all_models() if model._plan is not None]


def test_hot_path_models_use_the_fast_path() -> None:
    for model in (
        models.StatusUpdate,
        models.SpeechUpdate,
        models.Transcript,
        models.ToolCalls,
        models.ToolCall,
        models.AssistantRequest,
        models.HistoryMessage,
        models.OpenAIMessage,
        models.EndOfCallReport,
        models.ConversationUpdate,
        models.Customer,
        models.Artifact,
    ):
        assert model._plan is not None, model.__name__


@pytest.mark.parametrize("model", PLANNED, ids=lambda model: model.__name__)
def test_fast_path_agrees_with_marshmallow_on_real_payloads(model: type[VapiObject]) -> None:
    for data in SAMPLES:
        agree(model, data)


@pytest.mark.parametrize("model", PLANNED, ids=lambda model: model.__name__)
def test_fast_path_agrees_with_marshmallow_on_edge_values(model: type[VapiObject]) -> None:
    assert model._plan is not None
    base = {step.data_key: VALID[step.check] for step in model._plan if step.required}
    agree(model, base)
    for step in model._plan:
        for edge in EDGES:
            agree(model, {**base, step.data_key: edge})
        missing = dict(base)
        missing.pop(step.data_key, None)
        agree(model, missing)


def test_fast_path_is_actually_taken() -> None:
    payload = p.make_status_update(status="ended", ended_reason="customer-ended-call")
    assert models.StatusUpdate._plan is not None
    values = fastload.load_plain(models.StatusUpdate._plan, payload)
    assert values is not None
    present = {name: value for name, value in values.items() if value is not None}
    assert present == {"status": "ended", "ended_reason": "customer-ended-call"}


class WithValidator(Schema):
    name = fields.String(validate=validate.Length(max=3))


class WithNested(Schema):
    child = fields.Nested(WithValidator)


class WithDate(Schema):
    when = fields.DateTime()


@pytest.mark.parametrize("schema", [WithValidator(), WithNested(), WithDate()])
def test_schemas_needing_marshmallow_get_no_plan(schema: Schema) -> None:
    assert fastload.plan(schema) is None


class Loose(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String()  # absent: left out, as marshmallow does
    count = fields.Float(load_default=None, allow_none=True)
    flag = fields.Boolean(required=True)


def test_optional_fields_without_default_are_left_out() -> None:
    schema = Loose()
    for data in ({"flag": True}, {"flag": False, "name": "x"}, {"flag": True, "count": None}):
        agree(schema, data)
    steps = fastload.plan(schema)
    assert steps is not None
    assert fastload.load_plain(steps, {"flag": True}) == {"count": None, "flag": True}


@pytest.mark.parametrize(
    "answer", [a for a in ANSWERS.values() if a.schema is not None], ids=lambda a: a.decorator
)
def test_limited_response_schemas_agree_with_marshmallow(answer: Any) -> None:
    for name in answer.schema.load_fields:
        limited = type(answer.schema)(only=[name])
        if fastload.plan(limited) is None:
            continue
        for edge in EDGES:
            agree(limited, {name: edge})
