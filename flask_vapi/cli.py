"""``flask vapi``: print tool definitions, play a whole simulated call, replay a saved payload.

Every :class:`~flask_vapi.VapiBlueprint` gets these commands in its ``cli`` group, which
Flask registers under the blueprint's name (``flask vapi ...`` for the default one).
"""

from __future__ import annotations

import codecs
import json
import time
import uuid
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Optional
from urllib.parse import SplitResult, urlsplit, urlunsplit

import click
from flask import Flask, current_app

if TYPE_CHECKING:
    from .blueprint import VapiBlueprint
    from .testing.recorder import SignalRecord

#: Timeline details longer than this are cut (unless ``--full``), so lines fit 100 columns.
LINE_WIDTH = 87


def add_commands(blueprint: VapiBlueprint) -> None:
    """Add ``tools``, ``simulate`` and ``send`` to ``blueprint.cli``."""
    blueprint.cli.help = "Vapi webhook: tool definitions, a simulated call, replaying payloads."

    @blueprint.cli.command("tools")
    @click.option(
        "--server-url",
        metavar="URL",
        help="Where Vapi reaches this app, e.g. https://abc.ngrok.app (the webhook path is "
        "appended unless already there). Default: PREFERRED_URL_SCHEME://SERVER_NAME; "
        "without SERVER_NAME the tools get no server.url.",
    )
    def tools_command(server_url: Optional[str]) -> None:
        """Print the tool definitions (JSON) for model.tools.

        Paste them into an assistant's model.tools, or send them with Vapi's API.
        """
        print_tools(_app(), blueprint, server_url)

    @blueprint.cli.command("simulate")
    @click.option(
        "--args",
        "args_json",
        metavar="JSON",
        help="Arguments of some tools, replacing the generated ones: "
        '\'{"bookAppointment": {"date": "2026-09-08", "time": "10:30"}}\'.',
    )
    @click.option("--hang", is_flag=True, help="Also send a hang message (the assistant stalls).")
    @click.option("--full", is_flag=True, help="Print whole answers, not one line each.")
    def simulate_command(args_json: Optional[str], hang: bool, full: bool) -> None:
        """Play a simulated call through the app; print a timeline.

        Sends assistant-request, status-update (in-progress), a user and an assistant
        transcript, one tool-calls message per registered tool (example arguments from
        its schema, or --args), hang (--hang), status-update (ended) and
        end-of-call-report.  Exits with 1 when an answer is not 2xx, a tool returns an
        error or a handler fails.
        """
        arguments = _parse_args(args_json, blueprint)
        if not simulate(_app(), blueprint, arguments=arguments, hang=hang, full=full):
            raise click.exceptions.Exit(1)

    @blueprint.cli.command("send")
    @click.argument("file", type=click.File("rb"))
    @click.option(
        "--url",
        metavar="URL",
        help="POST to this URL (a running server) instead of the app in-process.",
    )
    @click.option("--no-sign", is_flag=True, help="Send without authentication headers.")
    @click.option(
        "--timeout", type=float, default=20.0, show_default=True, help="Seconds, with --url."
    )
    def send_command(file: Any, url: Optional[str], no_sign: bool, timeout: float) -> None:
        """POST a saved payload, signed, and print the answer.

        FILE (a path, or - for stdin) holds a request body {"message": {...}} or a bare
        message, for example one copied from the Vapi dashboard's call logs.  Exits
        with 1 when the answer is not 2xx.
        """
        ok = send(_app(), blueprint, file.read(), url=url, sign=not no_sign, timeout=timeout)
        if not ok:
            raise click.exceptions.Exit(1)


def _app() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


# -- tools ----------------------------------------------------------------------------------


def public_webhook_url(app: Flask, name: str, server_url: Optional[str]) -> Optional[str]:
    """The webhook's public URL from ``--server-url`` or ``SERVER_NAME``, else ``None``."""
    from .testing.client import webhook_path

    path = webhook_path(app, name)
    if server_url is None:
        if not app.config.get("SERVER_NAME"):
            return None
        server_url = f"{app.config['PREFERRED_URL_SCHEME']}://{app.config['SERVER_NAME']}"
    parts = _check_http_url(server_url, "'--server-url'")
    if parts.path.rstrip("/").endswith(path):
        return server_url
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + path))


def _check_http_url(url: str, option: str) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(f"{url!r} is not an http(s) URL.", param_hint=option)
    return parts


def print_tools(app: Flask, blueprint: VapiBlueprint, server_url: Optional[str]) -> None:
    """``flask vapi tools``: the definitions as JSON on stdout, notes on stderr."""
    from .errors import ConfigurationError
    from .testing.client import find_blueprint
    from .tooldefs import ToolDefinitionWarning, tool_definitions

    name, _ = find_blueprint(app, blueprint)
    url = public_webhook_url(app, name, server_url)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ToolDefinitionWarning)
            definitions = tool_definitions(blueprint, server_url=url)
    except (ConfigurationError, ImportError) as exc:
        raise click.ClickException(str(exc)) from None
    for warning in caught:
        if issubclass(warning.category, ToolDefinitionWarning):
            click.echo(f"Warning: {warning.message}", err=True)
        else:  # not ours: hand it back to the warnings machinery
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    if not definitions:
        click.echo(f"Note: no tools are registered on the blueprint {name!r}.", err=True)
    elif url is None:
        click.echo(
            "Note: without --server-url or SERVER_NAME the tools have no server.url; Vapi "
            "then sends their tool-calls to the assistant's Server URL.",
            err=True,
        )
    click.echo(json.dumps(definitions, indent=2, ensure_ascii=False))


# -- simulate -------------------------------------------------------------------------------


class Step(NamedTuple):
    """One message of a simulated call and how it appears in the timeline."""

    label: str
    message: dict[str, Any]


def _parse_args(args_json: Optional[str], blueprint: VapiBlueprint) -> dict[str, Any]:
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
    from . import payloads
    from .tooldefs import ToolDefinitionWarning, example_arguments, parameters_schema

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

    Returns ``True`` when every answer was 2xx, no tool returned an error and no handler failed.
    """
    from .errors import ConfigurationError
    from .testing.client import VapiClient, find_blueprint, webhook_path
    from .testing.recorder import record_signals

    name, _ = find_blueprint(app, blueprint)
    try:
        steps = call_script(blueprint, arguments or {}, hang=hang)
    except (ConfigurationError, ImportError) as exc:
        raise click.ClickException(str(exc)) from None
    call_id = str(uuid.uuid4())
    client = VapiClient(app, app.response_class, blueprint=name)
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
        with record_signals(app) as sent:
            started = time.perf_counter()
            response = client.send_message(step.message)
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
    response: Any,
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


# -- send -----------------------------------------------------------------------------------


def _request_body(saved: bytes) -> tuple[bytes, str]:
    """The request body of a saved payload and its message type: ``{"message": ...}`` as
    is, a bare message wrapped with its bytes kept.  Raises ``click.BadParameter``."""
    if saved.startswith(codecs.BOM_UTF8):
        saved = saved[len(codecs.BOM_UTF8) :]
    try:
        payload = json.loads(saved)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON ({exc}).", param_hint="FILE") from None
    if isinstance(payload, dict) and isinstance(payload.get("type"), str):
        return b'{"message":' + saved.strip() + b"}", payload["type"]
    if isinstance(payload, dict) and isinstance(payload.get("message"), dict):
        return saved, str(payload["message"].get("type"))
    raise click.BadParameter(
        'neither a request body {"message": {...}} nor a message with a "type".',
        param_hint="FILE",
    )


def send(
    app: Flask,
    blueprint: VapiBlueprint,
    saved: bytes,
    *,
    url: Optional[str] = None,
    sign: bool = True,
    timeout: float = 20.0,
) -> bool:
    """``flask vapi send``: post a saved payload, print the answer; ``True`` if it was 2xx."""
    from .testing.client import VapiClient, find_blueprint, webhook_path
    from .testing.recorder import record_signals
    from .testing.signing import sign as sign_body

    name, bp = find_blueprint(app, blueprint)
    body, message_type = _request_body(saved)
    started = time.perf_counter()
    if url is None:
        with record_signals(app) as sent:
            client = VapiClient(app, app.response_class, blueprint=name)
            response = client.send_body(body, sign=sign)
        status, reason = response.status_code, response.status.partition(" ")[2]
        content, mimetype = response.get_data(), response.mimetype
        target = f"{webhook_path(app, name)} (in-process)"
        signals: Optional[list[str]] = [record.name for record in sent]
    else:
        _check_http_url(url, "'--url'")
        headers = {"Content-Type": "application/json"}
        if sign:
            headers.update(sign_body(body, app, prefix=bp.config_prefix, url=url))
        status, reason, content, mimetype = _post(url, body, headers, timeout)
        target, signals = url, None
    elapsed = time.perf_counter() - started
    signed = "signed" if sign else "unsigned"
    click.echo(f"POST {target}: {message_type} ({len(body)} bytes, {signed})")
    ok = 200 <= status < 300
    click.secho(f"{status} {reason} in {elapsed * 1000:.1f} ms", fg="green" if ok else "red")
    if signals is not None:
        click.echo(f"signals: {', '.join(signals) or '-'}")
    if mimetype == "application/json":
        try:
            click.echo(json.dumps(json.loads(content), indent=2, ensure_ascii=False))
        except ValueError:
            click.echo(content.decode("utf-8", "replace"))
    else:
        click.echo(f"<{len(content)} bytes of {mimetype or 'unknown type'}>")
    return ok


def _post(
    url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int, str, bytes, str]:
    """POST with urllib: status, reason, body and content type (HTTP errors included)."""
    import urllib.error
    import urllib.request  # here: importing flask_vapi should not load an HTTP client

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # http(s) only
            content_type = response.headers.get_content_type()
            return response.status, response.reason, response.read(), content_type
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.reason, error.read(), error.headers.get_content_type()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise click.ClickException(f"Could not reach {url}: {reason}") from None
