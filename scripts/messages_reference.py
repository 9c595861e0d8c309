"""Write docs/messages.md, the attribute reference of every typed message and shared object.

Run ``python scripts/messages_reference.py > docs/messages.md``; tests/test_reference.py fails
when the page is stale.  Names, wire names, types and required flags come from the model
declarations; a description is the ``#:`` comment above a declaration, else the docstring of a
derived attribute, else the first sentence of Vapi's own description of the wire field (from
the JSON Schema in tests/data, reached from each wire type of ``catalogue.MESSAGE_KINDS``).
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from marshmallow import fields

from flask_vapi import models
from flask_vapi.catalogue import MESSAGE_KINDS
from flask_vapi.models.base import AnyValue, Lazy, ModelField, ObjectField, VapiObject, camel
from flask_vapi.models.derived import Derived

SCHEMA = Path(__file__).resolve().parent.parent / "tests" / "data" / "server-message.schema.json"

_FIELD_TYPES: tuple[tuple[type, str], ...] = (
    (AnyValue, "any"),
    (ObjectField, "object"),
    (fields.String, "str"),
    (fields.Float, "float"),
    (fields.Integer, "int"),
    (fields.Boolean, "bool"),
    (fields.DateTime, "datetime"),
    (fields.Raw, "any"),
)
_COMMENT = re.compile(r"^\s+#:\s?(.*)$")
_DECLARATION = re.compile(r"^\s{4}(\w+)\s*[:=]")
_THIS_IS = re.compile(r"^(This|These) (is|are) ")
_COMPUTED = "(computed)"
_SENTENCE_END = re.compile(r'(?<!e\.g)(?<!i\.e)\.\s+(?=[A-Z`"])')


class Attribute(NamedTuple):
    """One row of the reference."""

    name: str
    wire: str
    type: str
    required: bool
    description: str


# --------------------------------------------------------------------------- the spec


def _refs(prop: dict[str, Any]) -> list[str]:
    names = [prop["$ref"].rsplit("/", 1)[-1]] if "$ref" in prop else []
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in prop.get(key, []):
            names += _refs(branch)
    if isinstance(prop.get("items"), dict):
        names += _refs(prop["items"])
    return names


def _properties(defs: dict[str, Any], names: list[str]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name in names:
        definition = defs[name]
        for key, prop in definition.get("properties", {}).items():
            merged.setdefault(key, prop)
        for branch_name in _refs({k: v for k, v in definition.items() if k != "properties"}):
            for key, prop in _properties(defs, [branch_name]).items():
                merged.setdefault(key, prop)
    return merged


def _nested_model(declaration: Any) -> type[VapiObject] | None:
    """The model a ``one``/``many``/``ModelField`` declaration loads, if any."""
    if isinstance(declaration, ModelField):
        return declaration.model
    owner = getattr(getattr(declaration, "_load", None), "__self__", None)
    return owner if isinstance(owner, type) and issubclass(owner, VapiObject) else None


def _declarations(model: type[VapiObject]) -> Iterator[tuple[str, str, Any]]:
    """(attribute, wire name, declaration) of every declared attribute, inherited ones too."""
    for name, field in model.schema.fields.items():
        yield name, field.data_key or name, field
    seen = set()
    for klass in model.__mro__:
        for name, value in vars(klass).items():
            if isinstance(value, Lazy) and name not in seen:
                seen.add(name)
                yield name, value.data_key or camel(name), value


def spec_properties(schema: dict[str, Any]) -> dict[type[VapiObject], dict[str, Any]]:
    """Model -> the spec's properties of the wire objects it models, reached from the types."""
    defs = schema["$defs"]
    by_type: dict[str, str] = {}
    for branch in defs["ServerMessage"]["properties"]["message"]["oneOf"]:
        name = branch["$ref"].rsplit("/", 1)[-1]
        type_schema = defs[name]["properties"]["type"]
        for value in [*type_schema.get("enum", []), type_schema.get("const")]:
            if value is not None:
                by_type[value] = name
    queue = [(k.model, [by_type[t]]) for t, k in MESSAGE_KINDS.items() if t in by_type]
    found: dict[type[VapiObject], dict[str, Any]] = {}
    visited: set[tuple[type, tuple[str, ...]]] = set()
    while queue:
        model, names = queue.pop(0)
        if (model, tuple(names)) in visited:
            continue
        visited.add((model, tuple(names)))
        props = _properties(defs, names)
        known = found.setdefault(model, {})
        for key, prop in props.items():
            known.setdefault(key, prop)
        for _, wire, declaration in _declarations(model):
            nested = _nested_model(declaration)
            if nested is not None and wire in props and _refs(props[wire]):
                queue.append((nested, _refs(props[wire])))
    return found


def _sentence(text: str) -> str:
    line = " ".join(text.strip().split("\n\n", 1)[0].split())
    line = _SENTENCE_END.split(line, 1)[0].rstrip(".") + "."
    line = _THIS_IS.sub("", line)
    return line[:1].upper() + line[1:]


# --------------------------------------------------------------------------- the models


def _comments(model: type) -> dict[str, str]:
    """Attribute -> its ``#:`` comment in the class body."""
    found: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(model).splitlines():
        comment = _COMMENT.match(line)
        if comment:
            pending.append(comment.group(1).strip())
            continue
        declaration = _DECLARATION.match(line)
        if declaration and pending:
            found[declaration.group(1)] = " ".join(pending)
        pending = []
    return found


def _annotation(text: Any) -> str:
    text = str(text)
    if text.startswith("Optional[") and text.endswith("]"):
        text = text[len("Optional[") : -1]
    return "any" if text == "Any" else text


def _type(declaration: Any) -> str:
    nested = _nested_model(declaration)
    if isinstance(declaration, Lazy):
        load = declaration._load
        if nested is not None:
            return f"list[{nested.__name__}]" if load.__name__ == "load_many" else nested.__name__
        return _annotation(inspect.signature(load).return_annotation)
    if nested is not None:
        return nested.__name__
    for field_class, name in _FIELD_TYPES:
        if isinstance(declaration, field_class):
            return name
    raise TypeError(f"no reference type for {declaration!r}")


def _parents(model: type[VapiObject]) -> list[type[VapiObject]]:
    return [k for k in model.__mro__[1:] if issubclass(k, VapiObject) and k is not VapiObject]


def attributes(model: type[VapiObject], spec: dict[type[VapiObject], dict[str, Any]]) -> list:
    """The reference rows of ``model``'s own (not inherited) public attributes, by name."""
    inherited: set[str] = set()
    for parent in _parents(model):
        inherited |= {name for name, _, _ in _declarations(parent)}
        inherited |= set(getattr(parent, "__annotations__", {}))
        inherited |= {n for n, v in vars(parent).items() if isinstance(v, Derived)}
    props: dict[str, Any] = {}
    for klass, known in spec.items():
        if issubclass(klass, model):
            for key, prop in known.items():
                props.setdefault(key, prop)
    comments = _comments(model)

    def describe(name: str, wire: str, fallback: str = "") -> str:
        if name in comments:
            return comments[name]
        if fallback:
            return fallback
        description = props.get(wire, {}).get("description", "")
        if description:
            return _sentence(description)
        return "Computed on load: see the model's description." if wire == _COMPUTED else ""

    rows: dict[str, Attribute] = {}
    for name, wire, declaration in _declarations(model):
        if name in inherited or name.startswith("_"):
            continue
        required = bool(getattr(declaration, "required", False))
        rows[name] = Attribute(name, wire, _type(declaration), required, describe(name, wire))
    for name, value in vars(model).items():
        if isinstance(value, Derived):
            doc = (value.__doc__ or "").strip().split("\n", 1)[0]
            kind = _annotation(inspect.signature(value.compute).return_annotation)
            rows[name] = Attribute(name, value.wire, kind, False, describe(name, "", doc))
    for name, annotation in vars(model).get("__annotations__", {}).items():
        if name in rows or name in inherited or name.startswith("_") or name == "schema":
            continue
        if name in ("raw",) or "ClassVar" in str(annotation):
            continue
        wire = camel(name) if camel(name) in props else _COMPUTED
        required = not str(annotation).startswith(("Optional[", "Any"))
        rows[name] = Attribute(name, wire, _annotation(annotation), required, describe(name, wire))
    return [rows[name] for name in sorted(rows)]


def documented_models() -> tuple[list[type[VapiObject]], list[type[VapiObject]]]:
    """(message models in catalogue order, then every object model they reach)."""
    messages: list[type[VapiObject]] = [models.Message]
    for kind in MESSAGE_KINDS.values():
        if kind.model not in messages:
            messages.append(kind.model)
    objects: list[type[VapiObject]] = []
    queue = list(messages)
    while queue:
        for _, _, declaration in _declarations(queue.pop(0)):
            nested = _nested_model(declaration)
            if nested is not None and nested not in objects and nested not in messages:
                objects.append(nested)
                queue.append(nested)
    return messages, objects


# --------------------------------------------------------------------------- the page

_INTRO = """\
# Message reference

<!-- Generated by `python scripts/messages_reference.py > docs/messages.md`; do not edit.
tests/test_reference.py fails when this page is stale. -->

Every message a `VapiBlueprint` signals is one of the models below (`flask_vapi.models`).
Attributes have snake_case names; **wire name** is where the value is read from in the JSON
Vapi sends. An attribute reads `None` when Vapi did not send it (or sent `null`), and `raw`
always holds the object exactly as received, including fields not listed here. Types: `any`
is passed through as received (free-form JSON); `datetime` values are timezone-aware (Vapi
sends epoch milliseconds or ISO-8601); numbers are `float`. A model named as a type is
validated when first read. **required**: declared required, as Vapi's spec has it.

Descriptions are Vapi's own (first sentence, from its OpenAPI spec) unless the field is ours:
attributes computed from several places (for example the end-of-call report's `summary`,
read from `analysis.summary` or, in reports from before 2025, the top-level `summary`) say
so in their wire name.
"""


def _escape(text: str) -> str:
    """Markdown table cell text: reST literals become Markdown ones, ``|`` is escaped."""
    return text.replace("``", "`").replace("|", "\\|")


def _table(rows: list[Attribute]) -> list[str]:
    if not rows:
        return ["No attributes of its own.", ""]
    lines = [
        "| attribute | wire name | type | required | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        required = "yes" if row.required else "no"
        cells = [f"`{row.name}`", f"`{row.wire}`", f"`{row.type}`", required, row.description]
        lines.append("| " + " | ".join(_escape(cell) for cell in cells) + " |")
    lines.append("")
    return lines


def _summary(model: type) -> str:
    return _escape(" ".join((model.__doc__ or "").strip().split("\n\n", 1)[0].split()))


def render(schema: dict[str, Any]) -> str:
    """The whole page."""
    spec = spec_properties(schema)
    messages, objects = documented_models()
    lines = [_INTRO, "## Wire types", "", "| wire type | model |", "| --- | --- |"]
    for wire_type, kind in MESSAGE_KINDS.items():
        name = kind.model.__name__
        lines.append(f"| `{_escape(wire_type)}` | [`{name}`](#{name.lower()}) |")
    lines += ["", "## Messages", ""]
    lines.append("Every message has the attributes of `Message`; each type adds its own.")
    lines.append("")
    for model in messages:
        lines += [f"### {model.__name__}", "", _summary(model), ""]
        lines += _table(attributes(model, spec))
    lines += ["## Shared objects", ""]
    for model in objects:
        lines += [f"### {model.__name__}", "", _summary(model), ""]
        lines += _table(attributes(model, spec))
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    """Print the page (``python scripts/messages_reference.py > docs/messages.md``)."""
    with SCHEMA.open(encoding="utf-8") as handle:
        schema = json.load(handle)
    sys.stdout.write(render(schema))


if __name__ == "__main__":
    main()
