"""Worst-case answer time under gunicorn (sync, gthread, gevent) when handlers overrun budgets.

    python benchmarks/deadlines.py [--quick] [--budget 0.5] [--requests 24] [--strict]

Every handler (a tool, an ``async def`` tool, an ``assistant-request`` responder) sleeps 3x
its budget; flask_vapi must answer the type's fallback within the budget (target: max <=
budget + 50 ms, every answer the valid fallback).  The floor is a
bare Flask view that sleeps the same: it answers after the full sleep.  The report is a
markdown table on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the helper modules next to this file
    sys.path.insert(0, str(HERE))

import httpload  # noqa: E402
from apps import ASSISTANT_ID, PATH, SECRET  # noqa: E402
from bench import busy_fraction, cpu_model, log, verdict, version  # noqa: E402

import flask_vapi  # noqa: E402
from flask_vapi.payloads import make_assistant_request, make_tool_calls, wrap  # noqa: E402

#: Default budget (s); the handlers sleep SLEEP_FACTOR times it.
BUDGET = 0.5
SLEEP_FACTOR = 3
#: The target: the answer is sent at most this long after the budget ran out.
SLACK = 0.050
TOOL, ASYNC_TOOL = "slowLookup", "slowLookupAsync"
CALL_ID = "call_deadline_bench"


def timed_out(tool: str) -> dict[str, Any]:
    """The documented answer of a tool call past its budget (README "Deadlines")."""
    error = f"The tool {tool!r} did not finish in time."
    return {"results": [{"toolCallId": CALL_ID, "name": tool, "error": error}]}


#: The measured messages: the tool that is called (or None), and the documented fallback.
KINDS: dict[str, tuple[Optional[str], dict[str, Any]]] = {
    "tool-calls": (TOOL, timed_out(TOOL)),
    "tool-calls, async def": (ASYNC_TOOL, timed_out(ASYNC_TOOL)),
    "assistant-request": (
        None,
        {"error": "Sorry, we can't take your call right now. Please try again later."},
    ),
}
#: Per worker class: gunicorn options and the client connections (what it serves at once).
CLASSES = {
    "sync": {"workers": 2, "threads": 1, "connections": 2},
    "gthread": {"workers": 1, "threads": 4, "connections": 4},
    "gevent": {"workers": 1, "threads": 1, "connections": 8},
}


# --------------------------------------------------------------------------- the apps


def create_app(budget: float = BUDGET) -> Any:
    """flask_vapi with ``tool-calls`` and ``assistant-request`` budgets of ``budget`` s and
    handlers that sleep ``SLEEP_FACTOR`` times that (gunicorn imports this module)."""
    from flask import Flask

    from flask_vapi import VapiBlueprint

    sleep = budget * SLEEP_FACTOR
    app = Flask("deadlines")
    app.config.update(
        VAPI_SECRET=SECRET,
        VAPI_DEADLINES={"tool-calls": budget, "assistant-request": budget},
        # One prebuilt request is sent again and again: each must run, not be answered as
        # a redelivery (benchmarks/store.py measures the store).
        VAPI_DEDUPLICATE=False,
        VAPI_STORE_URL="memory://",
    )
    vapi = VapiBlueprint()

    @vapi.tool(TOOL)
    def slow_lookup(order: str = "") -> str:
        time.sleep(sleep)
        return f"Order {order} found."

    @vapi.tool(ASYNC_TOOL)
    async def slow_lookup_async(order: str = "") -> str:
        await asyncio.sleep(sleep)
        return f"Order {order} found."

    @vapi.assistant_request
    def choose_assistant(message: Any) -> dict[str, Any]:
        time.sleep(sleep)
        return {"assistantId": ASSISTANT_ID}

    app.register_blueprint(vapi)
    quiet_logs()
    return app


def quiet_logs() -> None:
    """Write flask_vapi's log lines (one per timed-out handler) to /dev/null: formatted and
    written as in production, without flooding the report."""
    logger = logging.getLogger("flask_vapi")
    logger.handlers = [logging.StreamHandler(open(os.devnull, "w"))]  # noqa: SIM115
    logger.propagate = False


def create_floor_app(budget: float = BUDGET) -> Any:
    """The floor: a bare Flask view that parses the body, sleeps the same and answers ``{}``."""
    from flask import Flask, jsonify, request

    sleep = budget * SLEEP_FACTOR
    app = Flask("floor")

    @app.post(PATH)
    def webhook() -> Any:
        request.get_json()
        time.sleep(sleep)
        return jsonify({})

    return app


def bodies() -> dict[str, bytes]:
    """The request body per measured message (built once, reused for every request)."""
    built = {}
    for kind, (tool, _) in KINDS.items():
        if tool is None:
            message = make_assistant_request()
        else:
            message = make_tool_calls((tool, {"order": "A-1042"}, CALL_ID))
        built[kind] = json.dumps(wrap(message)).encode()
    return built


# --------------------------------------------------------------------------- the load


@dataclass
class Cell:
    """The answers of one (worker class, app, message type) run."""

    latencies: list[float] = field(default_factory=list)
    valid: int = 0
    errors: int = 0
    first_error: str = ""
    seconds: float = 0.0

    def quantile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def answers(self) -> int:
        return len(self.latencies)


def is_fallback(kind: str, status: int, body: bytes) -> bool:
    """Whether the answer is exactly the documented fallback of ``kind``, as JSON."""
    if status != 200:
        return False
    try:
        return bool(json.loads(body) == KINDS[kind][1])
    except ValueError:
        return False


def drive(
    server: httpload.Server,
    kind: str,
    body: bytes,
    connections: int,
    requests: int,
    max_seconds: float,
    floor: bool,
) -> Cell:
    """``requests`` requests on ``connections`` connections, stopping after ``max_seconds``."""
    data = httpload.request_bytes(server.port, body)
    cell, lock = Cell(), threading.Lock()
    issued = [0]
    stop_at = time.monotonic() + max_seconds

    def worker() -> None:
        conn = httpload.Connection(server.port, timeout=30.0)
        try:
            while time.monotonic() < stop_at:
                with lock:
                    if issued[0] >= requests:
                        return
                    issued[0] += 1
                begin = time.perf_counter()
                try:
                    status, answer = conn.request(data)
                except OSError as exc:
                    conn.close()
                    with lock:
                        cell.errors += 1
                        cell.first_error = cell.first_error or f"{type(exc).__name__}: {exc}"
                    continue
                elapsed = time.perf_counter() - begin
                ok = status == 200 if floor else is_fallback(kind, status, answer)
                with lock:
                    cell.latencies.append(elapsed)
                    cell.valid += ok
                    if status != 200:
                        cell.errors += 1
                        cell.first_error = cell.first_error or f"HTTP {status}: {answer[:120]!r}"
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max_seconds + 60)
    cell.seconds = time.perf_counter() - began
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError("a load thread did not finish in time")
    return cell


def probe(server: httpload.Server, kind: str, body: bytes, floor: bool) -> None:
    """Fail loudly unless one request gets the answer this app must give (also a warm-up)."""
    conn = httpload.Connection(server.port, timeout=30.0)
    try:
        status, answer = conn.request(httpload.request_bytes(server.port, body))
    finally:
        conn.close()
    if status != 200 or not (floor or is_fallback(kind, status, answer)):
        raise AssertionError(f"{server.which} server answered {status}: {answer[:300]!r}")


# --------------------------------------------------------------------------- report


def markdown_table(headers: list[str], rows: list[list[str]], left: int = 1) -> None:
    """A markdown table: the first ``left`` columns left-aligned, the others right-aligned."""
    print("| " + " | ".join(headers) + " |")
    print("| " + " | ".join([":---"] * left + ["---:"] * (len(headers) - left)) + " |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def row(
    worker_class: str, app: str, kind: str, cell: Cell, budget: float
) -> tuple[list[str], bool]:
    """One table row, and whether it meets the target (the floor always does: reference)."""
    floor = app == "floor"
    max_ms = cell.quantile_ms(1.0)
    budget_ms = budget * 1000
    share = cell.valid / cell.answers if cell.answers else 0.0
    passed = (
        cell.answers > 0
        and cell.errors == 0
        and max_ms <= budget_ms + SLACK * 1000
        and cell.valid == cell.answers
    )
    connections = CLASSES[worker_class]["connections"]
    cells = [
        worker_class,
        app,
        kind,
        str(connections),
        str(cell.answers),
        f"{budget_ms:.0f}" if not floor else f"(sleeps {budget_ms * SLEEP_FACTOR:.0f})",
        f"{cell.quantile_ms(0.5):.1f}",
        f"{cell.quantile_ms(0.99):.1f}",
        f"{max_ms:.1f}",
        f"{max_ms - budget_ms:+.1f}",
        "(floor)" if floor else f"<= {budget_ms + SLACK * 1000:.0f}",
        "-" if floor else f"{share:.0%}",
        "" if floor else verdict(passed),
    ]
    if cell.errors:
        cells[-1] = f"MISS: {cell.errors} errors ({cell.first_error})"
    return cells, passed or floor


def run(budget: float, requests: int, max_seconds: float, classes: list[str], floor: bool) -> bool:
    kinds = bodies()
    rows, ok = [], True
    started = time.perf_counter()
    for worker_class in classes:
        options = CLASSES[worker_class]
        apps = [("vapi", f"deadlines:create_app(budget={budget!r})")]
        if floor:
            apps.append(("floor", f"deadlines:create_floor_app(budget={budget!r})"))
        for app, spec in apps:
            server = httpload.Server(
                app,
                spec=spec,
                worker_class=worker_class,
                workers=options["workers"],
                threads=options["threads"],
                timeout=int(budget * SLEEP_FACTOR * 4) + 30,
            )
            with server:
                for kind, body in kinds.items():
                    if app == "floor" and kind != "tool-calls":
                        continue  # the floor does not parse the message: one row is enough
                    log(f"{worker_class}: {app} {kind}, {requests} requests")
                    probe(server, kind, body, app == "floor")
                    cell = drive(
                        server,
                        kind,
                        body,
                        options["connections"],
                        requests,
                        max_seconds,
                        app == "floor",
                    )
                    cells, passed = row(worker_class, app, kind, cell, budget)
                    ok &= passed
                    rows.append(cells)
    elapsed = time.perf_counter() - started
    print(
        f"== Deadlines under gunicorn on 127.0.0.1: handlers sleep {SLEEP_FACTOR}x the "
        f"{budget * 1000:.0f} ms budget; answer time = client connect to full answer "
        f"({elapsed:.0f} s)"
    )
    print()
    markdown_table(
        [
            "worker class",
            "app",
            "message",
            "conns",
            "answers",
            "budget ms",
            "p50 ms",
            "p99 ms",
            "max ms",
            "max - budget ms",
            "target max ms",
            "valid fallback",
            "",
        ],
        rows,
        left=3,
    )
    print()
    workers = "; ".join(
        f"{name}: --workers {o['workers']}"
        + (f" --threads {o['threads']}" if name == "gthread" else "")
        + f", {o['connections']} connections"
        for name, o in CLASSES.items()
        if name in classes
    )
    print(f"gunicorn: {workers}; VAPI_MAX_WORKERS default (32)")
    print()
    return ok


def print_header(quick: bool) -> None:
    import platform

    print(f"flask_vapi deadline benchmark{' (--quick)' if quick else ''}")
    print(f"machine:  {platform.platform()}, {cpu_model()}")
    print(
        f"python:   {platform.python_version()}; flask {version('flask')}, "
        f"gunicorn {version('gunicorn')}, gevent {version('gevent')}, "
        f"asgiref {version('asgiref')}"
    )
    print(f"library:  flask_vapi {flask_vapi.__version__} ({Path(flask_vapi.__file__).parent})")
    busy = busy_fraction()
    if busy is not None:
        note = "  <- other processes are busy: expect noise" if busy > 0.15 else ""
        print(f"load:     {busy:.0%} of all CPUs busy in the second before the run{note}")
    print()


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="8 requests per cell, no floor")
    parser.add_argument("--budget", type=float, default=BUDGET, help="budget in seconds (0.5)")
    parser.add_argument("--requests", type=int, help="requests per cell (default 24, quick 8)")
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="the longest one cell may run (60)"
    )
    parser.add_argument(
        "--classes", default=",".join(CLASSES), help="worker classes (sync,gthread,gevent)"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the bare-Flask floor rows")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    classes = [name.strip() for name in args.classes.split(",") if name.strip()]
    unknown = sorted(set(classes) - set(CLASSES))
    if unknown:
        raise SystemExit(f"unknown worker class {', '.join(unknown)}; known: {', '.join(CLASSES)}")
    print_header(args.quick)
    ok = run(
        budget=args.budget,
        requests=args.requests or (8 if args.quick else 24),
        max_seconds=args.max_seconds,
        classes=classes,
        floor=not (args.quick or args.no_floor),
    )
    print("all targets met" if ok else "some targets missed (see MISS above)")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
