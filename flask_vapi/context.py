"""Context objects in the style of Flask's ``request``: message, tool call and call state."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, cast

from werkzeug.local import LocalProxy

if TYPE_CHECKING:
    from .models.messages import Message
    from .models.tools import ToolCall
    from .store.state import CallState

_message: ContextVar[Message] = ContextVar("flask_vapi.message")
_tool_call: ContextVar[ToolCall] = ContextVar("flask_vapi.tool_call")
_call_state: ContextVar[CallState] = ContextVar("flask_vapi.call_state")

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
#: The state of the call being handled (a mapping kept in the store, shared by every worker):
#: ``call_state["patient_id"] = 42``; see :class:`~flask_vapi.store.state.CallState`.
call_state: CallState = cast(
    "CallState",
    LocalProxy(
        _call_state,
        unbound_message="call_state is only set while a message of a call is dispatched "
        "(outside one, use vapi.call_state(call_id)).",
    ),
)
