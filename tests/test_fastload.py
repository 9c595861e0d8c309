"""The plain-field fast path returns exactly what marshmallow returns, or defers to it."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, post_load, pre_load
from marshmallow import validate as validators

from flask_vapi import models
from flask_vapi import payloads as p
from flask_vapi.catalogue import ANSWERS
from flask_vapi.models import fastload, kinds
from flask_vapi.models.base import BaseSchema, VapiObject


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


def valid_value(field: Any) -> Any:
    """A value of the field's kind that loads without error."""
    if isinstance(field, kinds.ModelField):
        return minimal(field.model)
    if isinstance(field, kinds.ModelList):
        return [minimal(field.model)]
    for kind, value in (
        (fields.String, "x"),
        (fields.Float, 1.0),
        (fields.Boolean, True),
        (kinds.ObjectField, {}),
        (kinds.ListValue, []),
        (fields.Raw, 1),
    ):
        if isinstance(field, kind):
            return value
    raise AssertionError(f"no valid value for {field!r}")


def minimal(model: type[VapiObject]) -> dict[str, Any]:
    """The smallest body of ``model`` with every required field valid."""
    return {
        field.data_key: valid_value(field)
        for field in model.schema.load_fields.values()
        if field.required
    }


def comparable(value: Any) -> Any:
    """Loaded values, with nested objects as (type, raw, problems): they have no ``==``."""
    if isinstance(value, VapiObject):
        return (type(value), value.raw, value.invalid_fields, dict(vars(value)).keys())
    if isinstance(value, list):
        return [comparable(item) for item in value]
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    return value


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
        assert comparable(fast) == comparable(slow), (schema, data)


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
    base = minimal(model)
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
    assert present == {
        "type": "status-update",
        "status": "ended",
        "ended_reason": "customer-ended-call",
    }


def test_nested_models_are_loaded_on_the_fast_path() -> None:
    payload = p.make_tool_calls(("f", {"a": 1}), ("g", {}))
    assert models.ToolCalls._plan is not None
    values = fastload.load_plain(models.ToolCalls._plan, payload)
    assert values is not None
    assert [(call.id, call.name) for call in values["tool_calls"]] == [
        (item["id"], item["function"]["name"]) for item in payload["toolCallList"]
    ]


# -- the guards of plan(): each schema differs from a plannable one by one feature -------


def plannable(**extra: Any) -> type[Schema]:
    """A schema the fast path takes (unknown=EXCLUDE, plain fields), plus ``extra``."""
    attributes: dict[str, Any] = {"name": fields.String(), "count": fields.Float()}
    attributes.update(extra)
    return type("Probe", (BaseSchema,), attributes)


def test_the_baseline_schema_is_planned() -> None:
    # Without this, every "no plan" test below could pass for another reason.
    assert fastload.plan(plannable()()) is not None


def _lower(self: Any, data: Any, **kwargs: Any) -> Any:
    return {key: value.lower() if isinstance(value, str) else value for key, value in data.items()}


GUARDED: dict[str, Schema] = {
    "validator": plannable(name=fields.String(validate=validators.Length(max=3)))(),
    "pre_load hook": plannable(hook=pre_load(_lower))(),
    "post_load hook": plannable(hook=post_load(_lower))(),
    "allow_nan": plannable(count=fields.Float(allow_nan=True))(),
    "truthy": plannable(flag=fields.Boolean(truthy={"yes"}))(),
    "falsy": plannable(flag=fields.Boolean(falsy={"no"}))(),
    "attribute": plannable(name=fields.String(attribute="title"))(),
    "load_default": plannable(name=fields.String(load_default="anonymous"))(),
    "unknown=INCLUDE": plannable()(unknown=INCLUDE),
    "field kind without a check": plannable(when=fields.DateTime())(),
    "marshmallow's Nested": plannable(child=fields.Nested(plannable()))(),
}


@pytest.mark.parametrize("guard", sorted(GUARDED))
def test_each_guard_keeps_its_schema_off_the_fast_path(guard: str) -> None:
    assert fastload.plan(GUARDED[guard]) is None


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
