"""The event log's cost per request on small messages, with SQLite, against the bare Flask floor.

    python benchmarks/eventlog.py [--quick]

Three apps in one run, interleaved round by round: the floor (a bare Flask view), flask_vapi
with the event log off, and flask_vapi recording every webhook into a SQLite file
(``VAPI_EVENT_LOG = True``).  The recording app's batches include the wait for its writer
thread to have written every event of the batch (``EventLog.flush``), so the writer's work
is paid inside the measurement, not left behind.  Target: the recording app <= 1.30x the
floor on status-update and transcript.  The "off" cost is the check on the request path:
``Observers.active(app)``, timed alone.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import apps
import inproc
from bench import print_table, verdict
from cases import Case, build_cases

TARGET = 1.30
WITH_TARGET = ("status-update", "transcript")
ROWS = ("status-update", "transcript", "tool-calls x1")


def timed(wsgi: Callable[..., Any], case: Case, count: int, after: Callable[[], Any]) -> float:
    """Seconds per request over ``count`` requests, ``after()`` (the flush) included."""
    environ = inproc.base_environ(case.body)
    started = time.perf_counter()
    inproc.run_batch(wsgi, environ, case.body, count)
    after()
    return (time.perf_counter() - started) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    args = parser.parse_args(argv)
    rounds, count = (3, 200) if args.quick else (15, 1500)
    folder = tempfile.mkdtemp(prefix="flask-vapi-eventlog-")
    floor = apps.create_floor_app()
    off = apps.create_vapi_app()
    recording = apps.create_vapi_app(event_log=f"sqlite:///{folder}/log.sqlite3")
    log = recording.extensions["vapi_observers"]["vapi"].event_log
    cases = [case for case in build_cases() if case.name in ROWS]
    for case in cases:
        inproc.check(off, case, case.expect)
        inproc.check(recording, case, case.expect)
    assert log.flush(30) and log.calls(), "the recording app recorded nothing"
    results: dict[str, dict[str, list[float]]] = {}
    nothing = lambda: None  # noqa: E731
    for round_ in range(rounds):
        for case in cases:
            cell = results.setdefault(case.name, {"floor": [], "off": [], "on": []})
            cell["floor"].append(timed(floor.wsgi_app, case, count, nothing))
            cell["off"].append(timed(off.wsgi_app, case, count, nothing))
            cell["on"].append(timed(recording.wsgi_app, case, count, lambda: log.flush(60)))
        print(f"round {round_ + 1}/{rounds}", file=sys.stderr)
    rows, ok = [], True
    for case in cases:
        cell = results[case.name]
        floor_us, off_us, on_us = (statistics.median(cell[k]) * 1e6 for k in ("floor", "off", "on"))
        ratios = [on / base for on, base in zip(cell["on"], cell["floor"])]
        ratio = statistics.median(ratios)
        goal, result = "", ""
        if case.name in WITH_TARGET:
            passed = ratio <= TARGET
            ok &= passed
            goal, result = f"<= {TARGET:.2f}x", verdict(passed)
        rows.append(
            [
                case.name,
                f"{len(case.body):,}",
                f"{floor_us:.1f}",
                f"{off_us:.1f}",
                f"{on_us:.1f}",
                f"{on_us - off_us:+.1f}",
                f"{off_us / floor_us:.3f}x",
                f"{ratio:.3f}x",
                goal,
                result,
            ]
        )
    print(f"== Event log on SQLite: µs per request, median of {rounds} rounds of {count}")
    print_table(
        [
            "payload",
            "bytes",
            "floor µs",
            "log off µs",
            "log on µs",
            "on - off µs",
            "off ratio",
            "on ratio",
            "target",
            "",
        ],
        rows,
    )
    observers = off.extensions["vapi_observers"]["vapi"]
    check_ns = min(timeit.repeat(lambda: observers.active(off), number=100_000, repeat=5)) * 1e4
    print(f"\nThe check a request pays with the log off: Observers.active(app) = {check_ns:.0f} ns")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
