"""Tool calls inside messages: ``ToolCall`` and its arguments, read from an object or JSON text."""

from __future__ import annotations

from typing import Any, Optional

from marshmallow import fields

from .. import jsonio
from .base import VapiObject, field, one, raw
from .common import MISSING


def parse_arguments(value: Any) -> Any:
    """Tool arguments arrive as an object or as a JSON string; return the object when possible.

    A string is read like a request body (:mod:`flask_vapi.jsonio`); one that is not JSON
    is returned unchanged.
    """
    if isinstance(value, (str, bytes)):
        # surrogatepass: a raw surrogate reaches loads, which refuses it as it would in a body.
        data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        try:
            return jsonio.loads(data)
        except jsonio.DecodeError:
            return value
    return value


def tool_arguments(owner: VapiObject, path: str, value: Any) -> Any:
    """The arguments of a tool call, from the wire ``value`` at ``path`` of ``owner``.

    Absent (or an empty string): ``{}``.  A JSON string is parsed.  A value that is
    not an object afterwards is returned as is and named ``path`` in the owner's
    ``invalid_fields``: the tool cannot be called with it.
    """
    if value is None or value == "":
        return {}
    parsed = parse_arguments(value)
    if not isinstance(parsed, dict):
        owner._note({path: ["Not a valid JSON object."]})
    return parsed


class ToolCall(VapiObject):
    """One tool call the model requests; ``name`` and ``arguments`` are normalised.

    ``name`` comes from ``function.name`` (or a legacy top-level ``name``);
    ``arguments`` from ``function.arguments`` (or legacy ``arguments`` /
    ``parameters``), parsed when Vapi sent a JSON string.
    """

    id: str = field(fields.String(required=True), vital=True)
    function = raw()
    type = raw()
    name: str
    arguments: Any

    def _normalise(self) -> None:
        # The one place a tool call's name and arguments are read.  ``function`` is
        # read here rather than through a schema field: tool calls are on the hot
        # path, where each marshmallow field costs about 2 µs.
        raw = self.raw
        function = raw.get("function")
        if function is None:
            function = {}
        elif not isinstance(function, dict):
            self._note({"function": ["Not a valid object."]})
            function = {}
        name = function.get("name", raw.get("name"))
        self.name = name if isinstance(name, str) else ""
        if not self.name:
            problem = MISSING if name is None or name == "" else "Not a valid string."
            self._note({"function.name": [problem]})
        arguments = function.get("arguments")
        if arguments is None:
            arguments = raw.get("arguments", raw.get("parameters"))
        if type(arguments) is dict:
            self.arguments = arguments
        else:
            self.arguments = tool_arguments(self, "function.arguments", arguments)


class ToolWithToolCall(VapiObject):
    """A tool call together with the tool's configuration (``toolWithToolCallList``)."""

    type: Optional[str] = field(fields.String())
    #: The call of this tool (the same item as in ``toolCallList``).
    tool_call = one(ToolCall)
    function = raw()
    server = raw()
    messages = raw()
    #: The tool's configuration on ``ghl`` and ``make`` tools.
    metadata = raw()
    is_async = raw(data_key="async")
    #: The tool's name, on tool types that have no ``function`` (``bash``, ``computer``, ...).
    name: Optional[str] = field(fields.String())
    sub_type: Optional[str] = field(fields.String())
    parameters = raw()
    variable_extraction_plan = raw()
    rejection_plan = raw()
