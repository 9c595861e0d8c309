"""The registration decorators of :class:`~flask_vapi.VapiBlueprint`: tools and responders."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Optional, TypeVar, Union, overload

from marshmallow import Schema

from .dispatch import Dispatcher
from .tools import Tool, ToolResult
from .toolschema import handler_target

F = TypeVar("F", bound=Callable[..., Any])


class ResponderMixin:
    """One handler answers each response-bearing message type and each tool name.

    A second registration for the same type or tool raises ``ConfigurationError`` at import
    time.  Handlers may be ``async def`` (install ``flask[async]``).
    """

    dispatcher: Dispatcher

    @overload
    def tool(self, name: F) -> F: ...

    @overload
    def tool(
        self,
        name: Optional[str] = None,
        *,
        schema: Union[Schema, type[Schema], None] = None,
        description: Optional[str] = None,
        timeout: Optional[float] = None,
        on_timeout: Union[str, ToolResult, None] = None,
        background: bool = False,
        deliver_late: bool = False,
    ) -> Callable[[F], F]: ...

    def tool(
        self,
        name: Union[str, F, None] = None,
        *,
        schema: Union[Schema, type[Schema], None] = None,
        description: Optional[str] = None,
        timeout: Optional[float] = None,
        on_timeout: Union[str, ToolResult, None] = None,
        background: bool = False,
        deliver_late: bool = False,
    ) -> Union[F, Callable[[F], F]]:
        """Answer the tool ``name`` (default: the function's name) in ``tool-calls``.

        Also answers legacy ``function-call`` messages for that name; ``description``
        defaults to the docstring.  The handler may be a function, a method, a
        :func:`functools.partial` (its bound arguments are not the model's to set) or a
        callable object.

        The tool's arguments arrive as keyword arguments, validated and converted by one
        marshmallow schema, made once, here: ``schema`` when given, else one derived from
        the handler's annotations (str, int, float, bool, date, datetime, time, Decimal,
        Enum, Literal, Optional, list, dict; no annotation or ``Any``: any value) and
        defaults (a default makes an argument optional).  The same schema is the tool
        definition's ``parameters`` (:func:`flask_vapi.tooldefs.tool_definitions`).
        Invalid arguments become the call's ``error``, naming the fields.

        The return value becomes the result: a ``str`` as is, ``None`` as ``""``, anything
        else as compact JSON (dates as ISO text, ``Decimal``/``UUID`` as text, an ``Enum``
        as its value, dataclasses as objects, sets and tuples as lists); return a
        :class:`~flask_vapi.ToolResult` to add a spoken ``message`` or ``metadata``.  A
        ``Response``, ``bytes`` or a value JSON cannot encode becomes the generic error.

        Deadlines (README, "Deadlines"): the call is answered within ``timeout`` seconds
        (default and cap: the ``tool-calls`` budget, ``VAPI_DEADLINES``); past it, the call's
        answer is ``on_timeout`` (a string result or a :class:`~flask_vapi.ToolResult`),
        else the error "The tool 'x' did not finish in time.", and the late outcome is sent
        on :data:`~flask_vapi.signals.late_result`.  ``deliver_late=True`` also posts the
        late result into the live call (Live Call Control); ``background=True`` (a tool
        configured ``async: true`` on Vapi) answers at once and always delivers that way.

        Raises :class:`~flask_vapi.ConfigurationError` for a name Vapi refuses
        (:data:`~flask_vapi.tools.NAME_PATTERN`), an annotation with no JSON type, or a
        ``timeout``/``on_timeout`` that is not valid.
        """
        if callable(name):
            return self.tool()(name)
        if isinstance(schema, type):
            schema = schema()

        def register(func: F) -> F:
            target = handler_target(func)
            self.dispatcher.add_tool(
                Tool(
                    name=name or getattr(target, "__name__", None) or type(target).__name__,
                    func=func,
                    description=description if description is not None else inspect.getdoc(target),
                    schema=schema,
                    timeout=timeout,
                    on_timeout=on_timeout,
                    background=background,
                    deliver_late=deliver_late,
                )
            )
            return func

        return register

    def on(self, *message_types: str, background: bool = False) -> Callable[[F], F]:
        """Call the decorated ``receiver(message)`` for every message of these types.

        ``"*"`` receives every message, unknown types included.  Unlike
        ``signals.x.connect``, the receiver is held strongly (a function defined inside an
        app factory keeps working) and hears only this blueprint.  Its return value is
        ignored; an exception is logged and sent as ``handler_error``.  Unknown type
        names raise :class:`~flask_vapi.ConfigurationError`::

            @vapi.on("end-of-call-report")
            def store_report(message):
                save(message.call.id, message.ended_reason)

        ``background=True`` runs the receiver off the request path, after the webhook is
        answered: on a bounded thread pool (``VAPI_BACKGROUND = "thread"``) or as a Celery
        task (``"celery"``), at most once per message (README, "Background receivers").
        """

        def register(func: F) -> F:
            self.dispatcher.add_receiver(message_types, func, background)
            return func

        return register

    def responder(self, message_type: str) -> Callable[[F], F]:
        """Answer the response-bearing ``message_type`` with the decorated function.

        The named decorators below (``assistant_request``, ...) are shorthands for this.
        """

        def register(func: F) -> F:
            self.dispatcher.add_responder(message_type, func)
            return func

        return register

    def _respond(self, message_type: str, func: F) -> F:
        return self.responder(message_type)(func)

    def assistant_request(self, func: F) -> F:
        """Answer ``assistant-request``: return ``{"assistantId": ...}``, an assistant, squad,
        workflow, ``destination`` or ``error`` (Vapi waits at most 7.5 s)."""
        return self._respond("assistant-request", func)

    def transfer_destination_request(self, func: F) -> F:
        """Answer ``transfer-destination-request``: return ``{"destination": ...}`` or ``error``."""
        return self._respond("transfer-destination-request", func)

    def handoff_destination_request(self, func: F) -> F:
        """Answer ``handoff-destination-request``: return ``{"destination": {...}}``.

        An empty destination (``{}``) or an ``error`` cancels the handoff.
        """
        return self._respond("handoff-destination-request", func)

    def knowledge_base_request(self, func: F) -> F:
        """Answer ``knowledge-base-request``: return ``{"documents": [...]}`` or a ``message``."""
        return self._respond("knowledge-base-request", func)

    def call_endpointing_request(self, func: F) -> F:
        """Answer ``call.endpointing.request``: return ``{"timeoutSeconds": 0..15}``."""
        return self._respond("call.endpointing.request", func)

    def campaign_predial(self, func: F) -> F:
        """Answer ``campaign.predial``: return ``{"eligible": True | False}``."""
        return self._respond("campaign.predial", func)

    def voice_request(self, func: F) -> F:
        """Answer ``voice-request``: return raw 16-bit mono PCM ``bytes`` at ``message.sample_rate``
        (or an iterator of ``bytes`` to stream)."""
        return self._respond("voice-request", func)
