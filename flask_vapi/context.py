"""Context objects in the style of Flask's ``request``: the current message and tool call."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, cast

from werkzeug.local import LocalProxy

if TYPE_CHECKING:
    from .models.messages import Message
    from .models.tools import ToolCall

_message: ContextVar[Message] = ContextVar("flask_vapi.message")
_tool_call: ContextVar[ToolCall] = ContextVar("flask_vapi.tool_call")

#: The message being dispatched, inside handlers and receivers.
current_message: Message = cast(
    "Message",
    LocalProxy(
        _message, unbound_message="current_message is only set while a Vapi message is dispatched."
    ),
)
#: The tool call being answered, inside a ``@vapi.tool`` handler.
current_tool_call: ToolCall = cast(
    "ToolCall",
    LocalProxy(_tool_call, unbound_message="current_tool_call is only set inside a tool handler."),
)
