"""``flask vapi``: tool definitions, a simulated call, saved payloads, recorded calls replayed.

Every :class:`~flask_vapi.VapiBlueprint` gets these commands in its ``cli`` group, which
Flask registers under the blueprint's name (``flask vapi ...`` for the default one).
``simulate`` and ``send`` (without ``--url``) run the app's real handlers: load a test
configuration with Flask's factory form, ``flask --app "myapp:create_app('testing')"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import click

from .common import command_app
from .record import export, replay
from .send import send
from .simulate import call_script, parse_args, simulate
from .tools import print_tools

if TYPE_CHECKING:
    from ..blueprint import VapiBlueprint

__all__ = ["add_commands", "call_script", "export", "print_tools", "replay", "send", "simulate"]

_REAL_HANDLERS = (
    "the app's real handlers answer: a simulated booking books.  Use a test configuration "
    "with Flask's factory form, e.g. flask --app \"myapp:create_app('testing')\"."
)


def add_commands(blueprint: VapiBlueprint) -> None:
    """Add ``tools``, ``simulate``, ``send``, ``export`` and ``replay`` to ``blueprint.cli``."""
    blueprint.cli.help = (
        "Vapi webhook: tool definitions, a simulated call, sending payloads, exporting and "
        "replaying recorded calls."
    )

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
        print_tools(command_app(), blueprint, server_url)

    @blueprint.cli.command("simulate", epilog="In-process, " + _REAL_HANDLERS)
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
        arguments = parse_args(args_json, blueprint)
        if not simulate(command_app(), blueprint, arguments=arguments, hang=hang, full=full):
            raise click.exceptions.Exit(1)

    @blueprint.cli.command("send", epilog="Without --url, " + _REAL_HANDLERS)
    @click.argument("file", type=click.File("rb"))
    @click.option(
        "--url",
        metavar="URL",
        help="POST to a running server instead of the app in-process: its base URL, e.g. "
        "http://127.0.0.1:5000 (the webhook path is appended unless already there).",
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
        ok = send(command_app(), blueprint, file.read(), url=url, sign=not no_sign, timeout=timeout)
        if not ok:
            raise click.exceptions.Exit(1)

    @blueprint.cli.command("export")
    @click.argument("call_id")
    @click.option(
        "--output", "-o", type=click.File("w"), default="-", help="A file (default: stdout)."
    )
    def export_command(call_id: str, output: Any) -> None:
        """Write a recorded call's messages and answers as JSON Lines.

        One line per message, as the event log holds it (secrets and control URLs
        redacted): the input of `replay`.  Needs the event log (VAPI_EVENT_LOG).
        """
        export(blueprint, call_id, output)

    @blueprint.cli.command("replay", epilog="In-process, " + _REAL_HANDLERS)
    @click.argument("file", type=click.File("r"))
    def replay_command(file: Any) -> None:
        """Replay an exported call and compare each answer with the recorded one.

        FILE (a path, or - for stdin) is the output of `export`.  Each message goes
        through the app in-process, not deduplicated and not recorded; nothing is posted
        into the call.  Prints the differences and exits with 1 if any answer changed.
        """
        if not replay(blueprint, file):
            raise click.exceptions.Exit(1)
