"""Memory mode: RSS of an in-process app after 1k requests vs after many more (mixed payloads)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from apps import create_floor_app, create_vapi_app
from cases import Case, build_cases
from inproc import base_environ, call_wsgi

#: Requests of each payload per 1000: small messages dominate, large ones come at a low rate.
MIX_PER_1000 = {
    "speech-update": 300,
    "transcript": 250,
    "status-update": 120,
    "tool-calls x1": 100,
    "tool-calls x5": 30,
    "assistant-request": 50,
    "conversation-update 10": 80,
    "conversation-update 100": 40,
    "conversation-update 1000": 3,
    "end-of-call-report 10": 14,
    "end-of-call-report 100": 10,
    "end-of-call-report 1000": 3,
}
BASELINE = 1000


def schedule(cases: list[Case]) -> list[Case]:
    """One cycle of 1000 requests with every payload spread evenly (weighted round robin)."""
    by_name = {case.name: case for case in cases}
    slots = []
    for name, weight in MIX_PER_1000.items():
        slots.extend(((index + 0.5) / weight, name) for index in range(weight))
    slots.sort()
    return [by_name[name] for _, name in slots]


def rss_kib() -> int:
    """Resident set size of this process (``VmRSS``), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def child(which: str, total: int) -> dict[str, Any]:
    """Run ``total`` mixed requests through one app; RSS and live objects at checkpoints."""
    app = create_vapi_app() if which == "vapi" else create_floor_app()
    cycle = schedule(build_cases())
    prepared = [(case.body, base_environ(case.body)) for case in cycle]
    statuses = [""]

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses[0] = status

    checkpoints = sorted({BASELINE, total // 10, total // 2, total})
    points = []
    failures = 0
    wsgi = app.wsgi_app
    for done in range(1, total + 1):
        body, environ = prepared[(done - 1) % len(prepared)]
        call_wsgi(wsgi, environ.copy(), body, start_response)
        if not statuses[0].startswith("200"):
            failures += 1
        if done in checkpoints:
            gc.collect()
            objects = len(gc.get_objects())
            points.append({"requests": done, "rss_kib": rss_kib(), "objects": objects})
    return {"which": which, "failures": failures, "points": points}


def run(which: str, total: int, script: Path) -> dict[str, Any]:
    """:func:`child` in a fresh interpreter, so neither app inherits the other's heap."""
    completed = subprocess.run(
        [sys.executable, str(script), "--memory-child", which, "--memory-requests", str(total)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"memory child ({which}) failed:\n{completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result
