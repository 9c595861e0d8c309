"""Answering ``tool-calls`` and ``function-call``: one ``results[]`` entry per call, in time."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from typing import Any, Callable, NamedTuple

from flask import Flask

from . import errors, signals
from .context import _message, _tool_call
from .logs import logger, quoted, short
from .models.messages import FunctionCall, Message, ToolCalls
from .models.tools import ToolCall
from .runner import Job, sync_callable
from .settings import Settings
from .tools import Tool, ToolError, describe_errors, result_entry

#: Unknown tool names listed by name in one log line; the rest are counted.
_NAMES_LOGGED = 5
_ARGUMENTS = "function.arguments"
#: Calls whose end-of-call report this process saw (no late delivery to them), at most.
_ENDED_CALLS_KEPT = 10_000

#: ``format(tool name, tool call id, results[] entry) -> content`` of a late result.
LateResultFormatter = Callable[[str, "str | None", "dict[str, Any]"], str]


class _Running(NamedTuple):
    """A tool call started on the pool, answered by its deadline or by ``timeout_entry``."""

    job: Job
    tool: Tool
    deadline: float
    budget: float


class ToolCallsMixin:
    """The tool-running half of :class:`~flask_vapi.dispatch.Dispatcher`."""

    tools: dict[str, Tool]
    failed: Callable[..., None]
    send: Callable[..., None]
    #: Builds the content of a late result posted into the call (replaceable).
    format_late_result: LateResultFormatter | None = None

    def __init__(self) -> None:
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._ended_lock = threading.Lock()

    def call_ended(self, call_id: str) -> None:
        """Remember that ``call_id`` ended: its late results are not delivered."""
        with self._ended_lock:
            self._ended[call_id] = None
            if len(self._ended) > _ENDED_CALLS_KEPT:
                self._ended.popitem(last=False)

    def has_ended(self, call_id: str | None) -> bool:
        """Whether this process saw the end-of-call report of ``call_id``."""
        return call_id is not None and call_id in self._ended

    # -- tool-calls -----------------------------------------------------------------

    def run_tools(
        self, app: Flask, message: ToolCalls, settings: Settings, arrived: float
    ) -> list[dict[str, Any]]:
        """One result per tool call, in order; the calls run side by side on the pool, each
        within its budget.  Unknown tools are logged once per message."""
        started: list[dict[str, Any] | tuple[dict[str, Any], _Running]] = []
        unknown: Counter[str] = Counter()
        for call in message.tool_calls:
            entry: dict[str, Any] = {"toolCallId": call.id, "name": call.name}
            broken = _broken_parts(call)
            if broken:  # one broken call of a batch: answered, not run
                entry["error"] = f"Invalid tool call: {describe_errors(broken)}"
                started.append(entry)
                continue
            if call.name not in self.tools:
                unknown[call.name] += 1
            outcome = self._start(app, message, call.name, call.arguments, call, settings, arrived)
            if isinstance(outcome, _Running):
                started.append((entry, outcome))
            else:
                entry.update(outcome)
                started.append(entry)
        if unknown:
            _log_unknown_tools(unknown)
        results = []
        for item in started:
            if isinstance(item, tuple):
                entry, running = item
                entry.update(self._finish(app, message, running))
                item = entry
            results.append(item)
        return results

    def function_call(
        self, app: Flask, message: FunctionCall, settings: Settings, arrived: float
    ) -> dict[str, Any]:
        """The legacy answer: ``{"result": ...}`` or ``{"error": ...}``."""
        function = message.function_call
        if function.name not in self.tools:
            _log_unknown_tools(Counter([function.name]))
        outcome = self._start(
            app, message, function.name, function.parameters, None, settings, arrived
        )
        if isinstance(outcome, _Running):
            outcome = self._finish(app, message, outcome)
        return {key: outcome[key] for key in ("result", "error") if key in outcome}

    # -- one call -------------------------------------------------------------------

    def _start(
        self,
        app: Flask,
        message: Message,
        name: str,
        arguments: Any,
        call: ToolCall | None,
        settings: Settings,
        arrived: float,
    ) -> dict[str, Any] | _Running:
        """The entry part of a call answered now, or the call running on the pool."""
        tool = self.tools.get(name)
        if tool is None:
            return {"error": f"No tool named '{name}' is available."}
        try:
            kwargs = tool.prepare(arguments)
        except ToolError as exc:
            logger.info(
                "Vapi tool %s was called with invalid arguments: %s", quoted(name), short(exc)
            )
            return {"error": str(exc)}
        except Exception as exc:  # a schema= hook or validator of the user's that raised
            self.failed(app, message, exc, tool.func)
            return {"error": _internal_error(name)}
        handler = sync_callable(app, tool.func)
        budget = settings.budgets.get(message.type)
        if tool.timeout is not None:
            budget = tool.timeout if budget is None else min(budget, tool.timeout)
        if budget is None and not tool.background:  # no deadline: run here, as it is
            token = _tool_call.set(call) if call is not None else None
            try:
                value, error = handler(**kwargs), None
            except Exception as exc:
                value, error = None, exc
            finally:
                if token is not None:
                    _tool_call.reset(token)
            return self._entry(app, message, tool, value, error)

        def late(value: Any, error: Exception | None) -> None:
            self._late(app, message, tool, call, value, error, settings)

        job = Job(lambda: handler(**kwargs), late)
        job.abandoned = tool.background  # answered at once: the result always comes late
        variables = ((_message, message), (_tool_call, call)) if call else ((_message, message),)
        if not settings.pool.start(app, job, *variables):
            exhausted = errors.PoolExhausted(message.type, budget or 0.0, tool=name)
            self.failed(app, message, exhausted, tool.func)
            return {"error": f"The tool '{name}' is busy; try again in a moment."}
        if tool.background:
            return tool.timeout_entry
        assert budget is not None
        return _Running(job, tool, arrived + budget, budget)

    def _finish(self, app: Flask, message: Message, running: _Running) -> dict[str, Any]:
        """The entry part of a running call: its result, or its timeout answer."""
        job, tool = running.job, running.tool
        if not job.wait(running.deadline):
            exceeded = errors.DeadlineExceeded(message.type, running.budget, tool=tool.name)
            self.failed(app, message, exceeded, tool.func)
            return tool.timeout_entry
        return self._entry(app, message, tool, job.value, job.error)

    def _entry(
        self, app: Flask, message: Message, tool: Tool, value: Any, error: Exception | None
    ) -> dict[str, Any]:
        """The ``result``/``error`` part of a finished call; failures are logged and signalled."""
        if isinstance(error, ToolError):
            return {"error": str(error)}
        if error is None:
            try:
                return result_entry(value)
            except Exception as exc:
                error = exc
        self.failed(app, message, error, tool.func)
        return {"error": _internal_error(tool.name)}

    def _late(
        self,
        app: Flask,
        message: Message,
        tool: Tool,
        call: ToolCall | None,
        value: Any,
        error: Exception | None,
        settings: Settings,
    ) -> None:
        """A call finished after its answer was sent: signal it, deliver it if asked."""
        entry = self._entry(app, message, tool, value, error)
        self.send(
            app,
            signals.late_result,
            message,
            handler=tool.func,
            value=value,
            exception=error,
            tool_call=call,
            entry=entry,
        )
        if tool.background or tool.deliver_late:
            self._post_late(app, message, tool, call, entry, settings)

    def _post_late(
        self,
        app: Flask,
        message: Message,
        tool: Tool,
        call: ToolCall | None,
        entry: dict[str, Any],
        settings: Settings,
    ) -> None:
        """Post a late result into the live call through its ``monitor.controlUrl``."""
        from .background import control  # only tools that deliver late pay for the import

        call_id = message.call.id if message.call is not None else None
        monitor = message.call.monitor if message.call is not None else None
        url = monitor.get("controlUrl") if isinstance(monitor, dict) else None
        reason = None
        if self.has_ended(call_id):
            reason = "the call has ended"
        elif not isinstance(url, str) or not url:
            reason = "the message has no call.monitor.controlUrl"
        if reason is None:
            assert isinstance(url, str)
            format_ = self.format_late_result or control.format_late_result
            body = control.add_message(format_(tool.name, call.id if call else None, entry))
            delivery = control.post(url, body, token=settings.control_token, call_id=call_id)
            if delivery.delivered:
                extra = {"tool_call": call, "attempts": delivery.attempts}
                self.send(app, signals.late_result_delivered, message, **extra)
                return
            reason = delivery.reason or "not delivered"
        else:
            logger.warning(
                "The late result of Vapi tool %s was not delivered: %s.", quoted(tool.name), reason
            )
        self.send(app, signals.late_result_undelivered, message, tool_call=call, reason=reason)


def _internal_error(name: str) -> str:
    return f"The tool '{name}' failed with an internal error."


def _broken_parts(call: ToolCall) -> dict[str, list[str]]:
    """What makes a tool call unanswerable; arguments are left to the tool, which names them."""
    return {path: problems for path, problems in call.invalid_fields.items() if path != _ARGUMENTS}


def _log_unknown_tools(unknown: Counter[str]) -> None:
    """One warning for every unknown tool of a message, however many calls it had."""
    names = [
        quoted(name) + (f" ({count} calls)" if count > 1 else "")
        for name, count in unknown.most_common(_NAMES_LOGGED)
    ]
    if len(unknown) > _NAMES_LOGGED:
        names.append(f"and {len(unknown) - _NAMES_LOGGED} more")
    logger.warning("Vapi called tools that have no handler: %s.", ", ".join(names))
