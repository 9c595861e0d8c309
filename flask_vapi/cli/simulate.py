"""``flask vapi simulate``: play a whole call through the app in-process and print a timeline."""

from __future__ import annotations

import json
import time
import uuid
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Optional

import click
from flask import Flask
from werkzeug.test import TestResponse

from .. import jsonio, payloads
from ..errors import ConfigurationError
from ..locate import find_blueprint, webhook_path
from ..recording import SignalRecord, record_signals
from ..tooldefs import ToolDefinitionWarning, parameters_schema
from .common import post_in_process
from .examples import example_arguments

if TYPE_CHECKING:
    from ..blueprint import VapiBlueprint

#: Timeline details longer than this are cut (unless ``--full``), so lines fit 100 columns.
LINE_WIDTH = 87


class Step(NamedTuple):
    """One message of a simulated call and how it appears in the timeline."""

    label: str
    message: dict[str, Any]


def parse_args(args_json: Optional[str], blueprint: VapiBlueprint) -> dict[str, Any]:
    """``--args``: a JSON object of tool name -> arguments.  Raises ``click.BadParameter``."""
    if args_json is None:
        return {}
    try:
        arguments = json.loads(args_json)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON ({exc}).", param_hint="'--args'") from None
    if not isinstance(arguments, dict) or not all(
        isinstance(value, dict) for value in arguments.values()
    ):
        raise click.BadParameter(
            'must be a JSON object of tool name -> arguments object: {"tool": {...}}.',
            param_hint="'--args'",
        )
    unknown = sorted(set(arguments) - set(blueprint.dispatcher.tools))
    if unknown:
        known = ", ".join(blueprint.dispatcher.tools) or "none"
        raise click.BadParameter(
            f"no tool named {', '.join(map(repr, unknown))} (registered: {known}).",
            param_hint="'--args'",
        )
    return arguments


def call_script(
    blueprint: VapiBlueprint, arguments: Mapping[str, Any], *, hang: bool = False
) -> list[Step]:
    """The messages of a realistic call, with one tool call per registered tool."""
    steps = [
        Step("assistant-request", payloads.make_assistant_request()),
        Step("status-update in-progress", payloads.make_status_update(status="in-progress")),
        Step("transcript user", payloads.make_transcript(role="user")),
        Step("transcript assistant", payloads.make_transcript(role="assistant")),
    ]
    for name, tool in blueprint.dispatcher.tools.items():
        if name in arguments:
            args = arguments[name]
        else:
            with warnings.catch_warnings():  # ``flask vapi tools`` reports untyped parameters
                warnings.simplefilter("ignore", ToolDefinitionWarning)
                args = example_arguments(parameters_schema(tool))
        call_id = "call_" + uuid.uuid4().hex[:24]  # unique, as Vapi's are: no false repeats
        steps.append(Step(f"tool-calls {name}", payloads.make_tool_calls((name, args, call_id))))
    if hang:
        steps.append(Step("hang", payloads.make_hang()))
    steps.append(Step("status-update ended", payloads.make_status_update(status="ended")))
    steps.append(Step("end-of-call-report", payloads.make_end_of_call_report()))
    return steps


def simulate(
    app: Flask,
    blueprint: VapiBlueprint,
    *,
    arguments: Optional[Mapping[str, Any]] = None,
    hang: bool = False,
    full: bool = False,
) -> bool:
    """``flask vapi simulate``: send the call script and print the timeline.

    The app's real handlers answer (a simulated booking books).  Returns ``True`` when
    every answer was 2xx, no tool returned an error and no handler failed.
    """
    name, _ = find_blueprint(app, blueprint)
    try:
        steps = call_script(blueprint, arguments or {}, hang=hang)
    except (ConfigurationError, ImportError) as exc:
        raise click.ClickException(str(exc)) from None
    call_id = str(uuid.uuid4())
    tools = len(blueprint.dispatcher.tools)
    click.echo(
        f"Simulated call {call_id} to {webhook_path(app, name)} "
        f"({len(steps)} messages, {tools} tool{'s' * (tools != 1)})"
    )
    problems: list[str] = []
    total = 0.0
    for number, step in enumerate(steps, 1):
        if isinstance(step.message.get("call"), dict):
            step.message["call"]["id"] = call_id
        body = jsonio.dumps(payloads.wrap(step.message))
        with record_signals(app) as sent:
            started = time.perf_counter()
            response = post_in_process(app, blueprint, name, body)
            elapsed = time.perf_counter() - started
        total += elapsed
        found = _print_step(number, step, response, sent, elapsed, full)
        problems.extend(f"#{number} {step.label}: {problem}" for problem in found)
    click.echo("")
    if problems:
        click.secho(f"FAILED: {len(problems)} problem(s) in {len(steps)} messages", fg="red")
        for problem in problems:
            click.echo(f"  {problem}")
        return False
    click.secho(
        f"OK: {len(steps)} messages answered 2xx in {total * 1000:.1f} ms, "
        f"{tools} tool call{'s' * (tools != 1)} without error",
        fg="green",
    )
    return True


def _print_step(
    number: int,
    step: Step,
    response: TestResponse,
    sent: list[SignalRecord],
    elapsed: float,
    full: bool,
) -> list[str]:
    """Print one timeline entry; return its problems (non-2xx, tool errors, failed handlers)."""
    problems = []
    ok = 200 <= response.status_code < 300
    status = click.style(str(response.status_code), fg="green" if ok else "red")
    click.echo(f"{number:>2}  {step.label:<34} {status} {elapsed * 1000:7.1f} ms")
    if not ok:
        problems.append(f"answered HTTP {response.status_code}")
    message = step.message
    if message["type"] == "transcript":
        click.echo(f"    says     {message['role']}: {message['transcript']}")
    for call in message.get("toolCallList", ()):
        function = call["function"]
        arguments = function["arguments"]
        if isinstance(arguments, str):  # JSON-encoded, as Vapi sends it
            arguments = json.loads(arguments)
        arguments = json.dumps(arguments, ensure_ascii=False)
        text = _line(function["name"] + f"({arguments})", full)
        click.echo(f"    calls    {text}")
    names = [record.name for record in sent]
    click.echo(f"    signals  {', '.join(names) or '-'}")
    for record in sent:
        if record.name == "handler-error":
            exception = record.extra.get("exception")
            text = f"{type(exception).__name__}: {exception}"
            click.secho(f"    failed   {text}", fg="red")
            problems.append(f"a handler failed: {text}")
    body = response.get_json(silent=True)
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        for result in body["results"]:
            if "error" in result:
                click.secho(f"    error    {_line(result['error'], full)}", fg="red")
                problems.append(f"tool {result.get('name')!r} returned an error")
            else:
                click.echo(f"    result   {_line(result.get('result'), full)}")
    elif body is None:
        click.echo(f"    answer   <{len(response.get_data())} bytes of {response.mimetype}>")
    else:
        click.echo(f"    answer   {_line(body, full)}")
    return problems


def _line(value: Any, full: bool) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if full or len(text) <= LINE_WIDTH:
        return text
    return text[: LINE_WIDTH - 1] + "…"
