"""``replay_call``: a call recorded with ``flask vapi export`` as a pytest regression test."""

from __future__ import annotations

import os
from typing import Union

from flask import Flask

from ..locate import BlueprintRef, find_blueprint
from ..replay import Replayed, read_events, replay_events


def replay_call(
    app: Flask, path: Union[str, os.PathLike[str]], *, blueprint: BlueprintRef = None
) -> list[Replayed]:
    """Replay the exported call in ``path`` through ``app``; raise ``AssertionError``
    listing each message whose answer changed, with its diff.

    ::

        def test_the_recorded_booking_call_still_works(app):
            replay_call(app, "tests/calls/booking.jsonl")

    Like ``flask vapi replay``: in-process, through ``blueprint`` (default: the app's only
    :class:`~flask_vapi.VapiBlueprint`), not deduplicated, not recorded, nothing posted
    into the call.  Returns every :class:`~flask_vapi.replay.Replayed`.
    """
    _, found = find_blueprint(app, blueprint)
    with open(path, encoding="utf-8") as lines:
        events = read_events(lines)
    with app.app_context():
        results = replay_events(app, found, events)
    changed = [
        f"message {index} ({replayed.event['type']}):\n{replayed.difference()}"
        for index, replayed in enumerate(results, 1)
        if not replayed.same
    ]
    if changed:
        raise AssertionError(
            f"{len(changed)} of {len(results)} replayed answers changed:\n" + "\n".join(changed)
        )
    return results
