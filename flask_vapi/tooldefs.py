"""Tool definitions for an assistant's ``model.tools``, generated from the registered handlers.

Every tool's JSON-Schema ``parameters`` come from the one marshmallow schema that also
validates its arguments (``Tool.arguments_schema``: the ``schema=`` given, else the one
derived from the handler's signature), through apispec's marshmallow converter
(``pip install 'flask-vapi[tools]'``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional, cast

from marshmallow import Schema, fields

from .errors import ConfigurationError
from .tools import NAME_PATTERN as NAME_PATTERN  # the rule lives with Tool, checked there
from .tools import Tool

if TYPE_CHECKING:
    from .blueprint import VapiBlueprint

#: The JSON types Vapi accepts in a parameter schema (``JsonSchema.type``).
JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object")
#: The string formats Vapi accepts (``JsonSchema.format``); other formats are left out.
FORMATS = frozenset(
    ("date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid")
)

_OPENAPI_ONLY = frozenset(("readOnly", "writeOnly", "nullable"))


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

    A ``background=True`` tool is exported with ``"async": true``.

    The name was checked against :data:`NAME_PATTERN` when the tool was registered.
    """
    function: dict[str, Any] = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    function["parameters"] = parameters_schema(tool)
    definition: dict[str, Any] = {"type": "function", "function": function}
    if tool.background:  # Vapi does not wait: the result comes by Live Call Control
        definition["async"] = True
    if server_url is not None:
        definition["server"] = {"url": server_url}
    return definition


def parameters_schema(tool: Tool) -> dict[str, Any]:
    """The JSON Schema of a tool's arguments, from the schema that validates them.

    Warns :class:`ToolDefinitionWarning` for each parameter without a JSON type.
    """
    parameters = _from_marshmallow(tool.name, tool.arguments_schema)
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
            f"Exporting the parameters of tool {name!r} needs apispec. Install it with: "
            "pip install 'flask-vapi[tools]'"
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
    no formats Vapi does not know, no OpenAPI-only keywords (``nullable``, ``x-*``), only
    string ``enum`` values (Vapi's ``JsonSchema.enum`` is a list of strings), and no empty
    ``items`` / ``additionalProperties`` (an array or object of anything)."""
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
        elif key == "enum":
            if [item for item in value if isinstance(item, str)]:
                cleaned[key] = [item for item in value if isinstance(item, str)]
        elif not isinstance(value, (dict, list)):
            cleaned[key] = value
        elif key in ("items", "additionalProperties") and _clean(value) == {}:
            continue
        else:
            cleaned[key] = _clean(value)
    return cleaned


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
