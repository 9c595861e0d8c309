"""``flask vapi export`` and ``flask vapi replay``: a recorded call as a regression test."""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any

import click

from ..replay import read_events, replay_events
from .common import command_app

if TYPE_CHECKING:
    from ..blueprint import VapiBlueprint


def export(blueprint: VapiBlueprint, call_id: str, out: IO[str]) -> None:
    """Write the recorded events of ``call_id`` to ``out``, one JSON object per line."""
    app = command_app()
    log = blueprint.event_log(app)
    if log is None:
        raise click.ClickException(
            f"The event log of endpoint {blueprint.name!r} is off: set "
            f"{blueprint.config_prefix}EVENT_LOG = True (or run with --debug)."
        )
    events = log.events(call_id)
    if not events:
        raise click.ClickException(f"No recorded call {call_id!r} (see the call inspector).")
    for event in events:
        out.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")


def replay(blueprint: VapiBlueprint, lines: IO[str], echo: Any = click.echo) -> bool:
    """Replay an exported call through the app; print a line per message and the diff of
    each answer that changed.  Whether every answer was the recorded one."""
    try:
        events = read_events(lines)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    results = replay_events(command_app(), blueprint, events)
    for index, replayed in enumerate(results, 1):
        event = replayed.event
        verdict = "same" if replayed.same else "DIFFERS"
        echo(f"{index:>3}  {event['type'] or 'rejected':<28} {replayed.status}  {verdict}")
        if not replayed.same:
            echo(replayed.difference())
    differing = sum(not replayed.same for replayed in results)
    echo(f"{len(results)} messages replayed, {differing} with a different answer.")
    return differing == 0
