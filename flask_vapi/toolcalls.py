"""Answering ``tool-calls`` and ``function-call``: one ``results[]`` entry per call, in time."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from typing import Any, Callable, NamedTuple

from flask import Flask

from . import errors, jsonio, observe, signals
from .context import _tool_call
from .logs import logger, quoted, short
from .models.messages import FunctionCall, Message, ToolCalls, call_id_in
from .models.tools import ToolCall
from .once import CLAIM_MARGIN, first_may_run
from .runner import Job, sync_callable
from .settings import Settings
from .store import StoreError
from .store.dedup import Deduplicator, tool_call_key
from .store.state import CallState
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
    store_failed: Callable[..., None]
    duplicate: Callable[..., None]
    #: Builds the content of a late result posted into the call (replaceable).
    format_late_result: LateResultFormatter | None = None

    def __init__(self) -> None:
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._ended_lock = threading.Lock()

    def call_ended(self, app: Flask, settings: Settings, call_id: str) -> None:
        """``call_id`` ended: its late results are not delivered, and its state is kept
        ``VAPI_CALL_STATE_TTL`` more seconds (hook tool calls may still come)."""
        with self._ended_lock:
            self._ended[call_id] = None
            if len(self._ended) > _ENDED_CALLS_KEPT:
                self._ended.popitem(last=False)
        try:
            CallState(settings.store, call_id).ended(settings.call_state_ttl)
        except StoreError as exc:
            self.store_failed(app, exc, "keeping the state of an ended call")

    def has_ended(self, call_id: str | None) -> bool:
        """Whether this process saw the end-of-call report of ``call_id``."""
        return call_id is not None and call_id in self._ended

    # -- tool-calls -----------------------------------------------------------------

    def claim_tool_calls(
        self, app: Flask, settings: Settings, message: ToolCalls, arrived: float
    ) -> dict[str, bool]:
        """Tool call id -> whether this is its first delivery (across workers)."""
        once = _deduplicator(settings)
        running = first_may_run(settings, message.type) + CLAIM_MARGIN
        call_id = call_id_in(message.raw)
        claims = {}
        try:
            for call in message.tool_calls:
                if call.id not in claims:
                    claims[call.id] = once.claim(tool_call_key(call_id, call.id), running)
        except StoreError as exc:
            self.store_failed(app, exc, "checking tool calls for redelivery")
            return {}
        return claims

    def run_tools(
        self,
        app: Flask,
        message: ToolCalls,
        settings: Settings,
        arrived: float,
        claims: dict[str, bool] | None = None,
    ) -> list[dict[str, Any]]:
        """One result per tool call, in order; the calls run side by side on the pool, each
        within its budget.  Unknown tools are logged once per message.  A call ``claims``
        says was delivered before runs nothing: it gets the first delivery's answer."""
        started: list[dict[str, Any] | tuple[dict[str, Any], _Running]] = []
        unknown: Counter[str] = Counter()
        once = _deduplicator(settings) if claims else None
        call_id = call_id_in(message.raw) if once is not None else None
        trace = observe.current_trace()
        runs: list[observe.ToolRun] = []
        for call in message.tool_calls:
            entry: dict[str, Any] = {"toolCallId": call.id, "name": call.name}
            if trace is not None:
                budget = settings.budgets.get(message.type)
                runs.append(observe.ToolRun(call.id, call.name, call.arguments, budget=budget))
            broken = _broken_parts(call)
            if broken:  # one broken call of a batch: answered, not run
                entry["error"] = f"Invalid tool call: {describe_errors(broken)}"
                started.append(entry)
                continue
            if once is not None and claims is not None and not claims.get(call.id, True):
                entry.update(self._first_answer(app, settings, message, call, once, arrived))
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
        for index, item in enumerate(started):
            if isinstance(item, tuple):
                entry, running = item
                entry.update(self._finish(app, message, running))
                if runs:
                    runs[index].ran(running.job)
                item = entry
            results.append(item)
        if trace is not None:
            for run, entry, call in zip(runs, results, message.tool_calls):
                duplicate = claims is not None and not claims.get(call.id, True)
                run.settle(entry, self.tools.get(run.name), duplicate, bool(_broken_parts(call)))
            trace.tools.extend(runs)
        if once is not None and claims is not None:
            self._remember_entries(app, once, call_id, results, claims)
        return results

    def _first_answer(
        self,
        app: Flask,
        settings: Settings,
        message: ToolCalls,
        call: ToolCall,
        once: Deduplicator,
        arrived: float,
    ) -> dict[str, Any]:
        """The answer the first delivery of ``call`` got, waited for within the budget."""
        self.duplicate(app, message, f"tool call {quoted(call.id)}", tool_call=call)
        call_id = call_id_in(message.raw)
        deadline = arrived + first_may_run(settings, message.type)
        try:
            stored = once.wait(tool_call_key(call_id, call.id), deadline)
        except StoreError as exc:
            self.store_failed(app, exc, "reading the first answer of a tool call")
            stored = None
        if stored is not None:
            entry: dict[str, Any] = jsonio.loads(stored)
            return entry
        tool = self.tools.get(call.name)  # the first is still running
        if tool is not None:
            return tool.timeout_entry
        return {"error": f"No tool named '{call.name}' is available."}

    def _remember_entries(
        self,
        app: Flask,
        once: Deduplicator,
        call_id: str | None,
        results: list[dict[str, Any]],
        claims: dict[str, bool],
    ) -> None:
        try:
            for entry in results:
                if claims.get(entry["toolCallId"]):
                    part = {k: v for k, v in entry.items() if k not in ("toolCallId", "name")}
                    once.remember(tool_call_key(call_id, entry["toolCallId"]), jsonio.dumps(part))
        except StoreError as exc:
            self.store_failed(app, exc, "remembering tool call answers")

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
        trace = observe.current_trace()
        run = None
        if trace is not None:
            budget = settings.budgets.get(message.type)
            run = observe.ToolRun(None, function.name, function.parameters, budget=budget)
        if isinstance(outcome, _Running):
            job = outcome.job
            outcome = self._finish(app, message, outcome)
            if run is not None:
                run.ran(job)
        answer: dict[str, Any] = {k: outcome[k] for k in ("result", "error") if k in outcome}
        if trace is not None and run is not None:
            run.settle(answer, self.tools.get(run.name))
            trace.tools.append(run)
        return answer

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
        variables = ((_tool_call, call),) if call is not None else ()
        # Waited for: on this CPU (the calls of one message share it, the GIL allowing one
        # at a time anyway); a background tool is not waited for.
        if not settings.pool.start(app, job, *variables, pin=not tool.background):
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
        if (tool.background or tool.deliver_late) and not observe.replaying():
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
        ended = "the call has ended"
        reason = None
        if self.has_ended(call_id):
            reason = ended
        elif not isinstance(url, str) or not url:
            reason = "the message has no call.monitor.controlUrl"
        if reason is None:
            assert isinstance(url, str)
            format_ = self.format_late_result or control.format_late_result
            body = control.add_message(format_(tool.name, call.id if call else None, entry))
            delivery = control.post(
                url,
                body,
                token=settings.control_token,
                call_id=call_id,
                stop=lambda: ended if self.has_ended(call_id) else None,  # between retries
            )
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


def _deduplicator(settings: Settings) -> Deduplicator:
    return Deduplicator(settings.store, settings.deduplicate_ttl, settings.prefix)


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
