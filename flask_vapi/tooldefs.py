"""Tool definitions for an assistant's ``model.tools``, generated from the registered handlers.

A tool with a marshmallow ``schema`` gets its JSON-Schema ``parameters`` from apispec's
marshmallow converter (``pip install 'flask-vapi[tools]'``); a tool without one gets them
from its handler's signature.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional, cast

from marshmallow import Schema, fields

from .errors import ConfigurationError
from .tools import Tool

if TYPE_CHECKING:
    from .blueprint import VapiBlueprint

#: Vapi's rule for ``function.name`` (``OpenAIFunction.name``).
NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")
#: The JSON types Vapi accepts in a parameter schema (``JsonSchema.type``).
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object")
#: The string formats Vapi accepts (``JsonSchema.format``); other formats are left out.
FORMATS = frozenset(
    ("date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid")
)

_OPENAPI_ONLY = frozenset(("readOnly", "writeOnly", "nullable"))
_ANNOTATION_TYPES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
}
_UNIONS = (typing.Union, getattr(types, "UnionType", typing.Union))  # X | Y: Python 3.10+
# Annotations that stay strings when get_type_hints() cannot resolve a handler's hints.
_ANNOTATION_NAMES = {kind.__name__: name for kind, name in _ANNOTATION_TYPES.items()}


class ToolDefinitionWarning(UserWarning):
    """A generated parameter has no JSON type, which Vapi's ``JsonSchema`` requires."""


def tool_definitions(
    blueprint: VapiBlueprint, *, server_url: Optional[str] = None
) -> list[dict[str, Any]]:
    """The ``model.tools`` entries of every tool registered on ``blueprint``, in order.

    ``server_url`` is the full public URL of the webhook (``https://host/vapi/webhook``).
    Without it the definitions have no ``server``, and Vapi sends their ``tool-calls``
    to the assistant's (or phone number's, or org's) Server URL.
    """
    tools = blueprint.dispatcher.tools.values()
    return [tool_definition(tool, server_url=server_url) for tool in tools]


def tool_definition(tool: Tool, *, server_url: Optional[str] = None) -> dict[str, Any]:
    """One function tool: ``{"type": "function", "function": {...}, "server": {"url": ...}}``.

    Raises :class:`~flask_vapi.ConfigurationError` for a name Vapi refuses.
    """
    if not NAME_PATTERN.fullmatch(tool.name):
        raise ConfigurationError(
            f"The tool name {tool.name!r} is not a valid Vapi function name: use 1 to 64 "
            "characters from a-z, A-Z, 0-9, '_' and '-'."
        )
    function: dict[str, Any] = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    function["parameters"] = parameters_schema(tool)
    definition: dict[str, Any] = {"type": "function", "function": function}
    if server_url is not None:
        definition["server"] = {"url": server_url}
    return definition


def parameters_schema(tool: Tool) -> dict[str, Any]:
    """The JSON Schema of a tool's arguments: from its marshmallow schema, else its signature.

    Warns :class:`ToolDefinitionWarning` for each parameter without a JSON type.
    """
    if tool.schema is not None:
        parameters = _from_marshmallow(tool.name, tool.schema)
    else:
        parameters = _from_signature(tool)
    for path in _untyped(parameters, ""):
        warnings.warn(
            f"Parameter {path!r} of tool {tool.name!r} has no JSON type, which Vapi's API "
            "requires: annotate it (str, int, float, bool, list, dict) or give the schema "
            "field a type.",
            ToolDefinitionWarning,
            stacklevel=2,
        )
    return parameters


# -- from a marshmallow schema ------------------------------------------------------------


def _from_marshmallow(name: str, schema: Schema) -> dict[str, Any]:
    try:
        from apispec import APISpec
        from apispec.exceptions import APISpecError
        from apispec.ext.marshmallow import MarshmallowPlugin
    except ImportError:  # pragma: no cover - the test environment has the extra
        raise ImportError(
            f"The tool {name!r} has a marshmallow schema: deriving its JSON Schema needs "
            "apispec. Install it with: pip install 'flask-vapi[tools]'"
        ) from None
    # A resolver returning None (documented, though typed ``str``) inlines nested schemas:
    # a tool definition has no components to $ref.
    inline = cast("Callable[[type[Schema]], str]", lambda schema: None)
    plugin = MarshmallowPlugin(schema_name_resolver=inline)
    APISpec("flask-vapi", "1", "3.0.3", plugins=[plugin])  # sets up plugin.converter
    converter: Any = plugin.converter
    converter.map_to_openapi_type(fields.Time, "string", "time")  # apispec leaves out the format
    try:
        converted = converter.schema2jsonschema(schema)
    except APISpecError as exc:  # circular nesting cannot be inlined
        raise ConfigurationError(f"Cannot derive the parameters of tool {name!r}: {exc}") from None
    cleaned: dict[str, Any] = _clean(converted)
    return cleaned


def _clean(node: Any) -> Any:
    """Plain JSON Schema of what a caller sends: no dump-only fields, no ``null`` defaults,
    no formats Vapi does not know, no OpenAPI-only keywords (``nullable``, ``x-*``)."""
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    cleaned: dict[str, Any] = {}
    dump_only = {key for key, value in node.get("properties", {}).items() if value.get("readOnly")}
    for key, value in node.items():
        if key in _OPENAPI_ONLY or key.startswith("x-") or (key == "default" and value is None):
            continue
        if key == "format" and value not in FORMATS:
            continue
        if key == "properties":
            value = {name: prop for name, prop in value.items() if name not in dump_only}
            cleaned[key] = {name: _clean(prop) for name, prop in value.items()}
        elif key == "required" and isinstance(value, list):
            if [name for name in value if name not in dump_only]:
                cleaned[key] = [name for name in value if name not in dump_only]
        elif key == "enum" or not isinstance(value, (dict, list)):
            cleaned[key] = value
        else:
            cleaned[key] = _clean(value)
    return cleaned


# -- from a handler's signature -----------------------------------------------------------


def _from_signature(tool: Tool) -> dict[str, Any]:
    try:
        hints = typing.get_type_hints(tool.func)
    except Exception:  # unresolvable string annotations: read the simple ones by name
        hints = {}
    properties: dict[str, Any] = {}
    for parameter in inspect.signature(tool.func).parameters.values():
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            continue  # *args, **kwargs and positional-only parameters take no named argument
        schema = _annotation_schema(hints.get(parameter.name, parameter.annotation))
        default = parameter.default
        if default is not parameter.empty and isinstance(default, (str, int, float, bool)):
            schema["default"] = default
        properties[parameter.name] = schema
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    required = [name for name in properties if name in tool.required]
    if required:
        parameters["required"] = required
    if tool.accepted is not None:  # no **kwargs: the handler refuses other arguments
        parameters["additionalProperties"] = False
    return parameters


def _annotation_schema(annotation: Any) -> dict[str, Any]:
    """``{"type": ...}`` for str/int/float/bool/list/dict and their ``Optional``, ``list[X]``,
    ``dict[K, V]`` and ``Literal["a", "b"]`` forms; ``{}`` for anything else."""
    if isinstance(annotation, str):
        name = _ANNOTATION_NAMES.get(annotation)
        return {"type": name} if name else {}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in _UNIONS:  # Optional[X], X | None
        others = [arg for arg in args if arg is not type(None)]
        return _annotation_schema(others[0]) if len(others) == 1 else {}
    if origin is typing.Literal and args and all(isinstance(arg, str) for arg in args):
        return {"type": "string", "enum": list(args)}
    if origin is list and args:
        items = _annotation_schema(args[0])
        return {"type": "array", "items": items} if items else {"type": "array"}
    kind = _ANNOTATION_TYPES.get(origin or annotation)
    return {"type": kind} if kind else {}


def _untyped(schema: Mapping[str, Any], path: str) -> list[str]:
    """Paths of the properties and items below ``schema`` that have no ``type``."""
    found: list[str] = []
    for name, prop in schema.get("properties", {}).items():
        where = f"{path}.{name}" if path else name
        if isinstance(prop, Mapping) and prop.get("type") in JSON_TYPES:
            found.extend(_untyped(prop, where))
        else:
            found.append(where)
    items = schema.get("items")
    if isinstance(items, Mapping):
        if items.get("type") in JSON_TYPES:
            found.extend(_untyped(items, f"{path}[]"))
        else:
            found.append(f"{path}[]")
    return found
