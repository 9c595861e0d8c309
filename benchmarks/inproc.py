"""In-process measurement through the WSGI interface: ``app.wsgi_app(environ, start_response)``."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Callable

from apps import PATH, SECRET
from cases import Case
from flask import Flask
from werkzeug.test import EnvironBuilder

WSGI = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def base_environ(body: bytes) -> dict[str, Any]:
    """The environ of a Vapi POST of ``body`` (``wsgi.input`` is replaced per request)."""
    builder = EnvironBuilder(
        path=PATH,
        method="POST",
        base_url="http://127.0.0.1:8000",
        data=body,
        content_type="application/json",
        headers={"X-Vapi-Secret": SECRET, "User-Agent": "Vapi"},
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    environ["wsgi.input"] = BytesIO(b"")
    return environ


def request_once(app: Flask, case: Case, secret: str = SECRET) -> tuple[str, bytes]:
    """One request: the status line and the whole answer."""
    environ = base_environ(case.body)
    environ["HTTP_X_VAPI_SECRET"] = secret
    environ["wsgi.input"] = BytesIO(case.body)
    captured: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        captured.append(status)

    result = app.wsgi_app(environ, start_response)
    try:
        answer = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return captured[-1], answer


def check(app: Flask, case: Case, expect: bytes) -> None:
    """Fail loudly unless ``app`` answers ``case`` with 200 and ``expect`` in the body."""
    status, answer = request_once(app, case)
    if not status.startswith("200") or expect not in answer:
        raise AssertionError(f"{app.name} answered {case.name} with {status}: {answer[:300]!r}")


def check_auth(vapi: Flask, case: Case) -> None:
    """Fail loudly unless the vapi app really checks the secret (a wrong one gets 401)."""
    status, answer = request_once(vapi, case, secret="wrong-" + SECRET)
    if not status.startswith("401"):
        raise AssertionError(f"a wrong X-Vapi-Secret was answered {status}: {answer[:300]!r}")


def call_wsgi(wsgi: WSGI, env: dict[str, Any], body: bytes, start_response: Any) -> None:
    """One request: ``body`` as a fresh input stream, the answer consumed and closed."""
    env["wsgi.input"] = BytesIO(body)
    result = wsgi(env, start_response)
    try:
        b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def run_batch(wsgi: WSGI, environ: dict[str, Any], body: bytes, count: int) -> float:
    """Seconds for ``count`` requests (fresh environ copy and BytesIO each, body consumed)."""
    statuses: list[str] = [""]

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses[0] = status

    copy = environ.copy
    perf = time.perf_counter
    start = perf()
    for _ in range(count):
        call_wsgi(wsgi, copy(), body, start_response)
    elapsed = perf() - start
    if not statuses[0].startswith("200"):
        raise AssertionError(f"status {statuses[0]!r} during the timed batch")
    return elapsed


@dataclass
class Cell:
    """The per-request seconds of one payload for floor and vapi, round by round."""

    case: Case
    count: int
    floor: list[float] = field(default_factory=list)
    vapi: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        """Per-round vapi/floor ratios (paired: the same round)."""
        return [v / f for f, v in zip(self.floor, self.vapi)]

    @property
    def floor_us(self) -> float:
        return statistics.median(self.floor) * 1e6

    @property
    def vapi_us(self) -> float:
        return statistics.median(self.vapi) * 1e6

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def ratio_iqr(self) -> tuple[float, float]:
        """The 25th and 75th percentiles of the per-round ratios."""
        if len(self.ratios) < 2:
            return self.ratio, self.ratio
        low, _, high = statistics.quantiles(self.ratios, n=4)
        return low, high

    @property
    def size(self) -> float:
        """History messages of the payload (0 for the fixed-size types)."""
        return float(self.case.messages or 0)


def calibrate(wsgi: WSGI, environ: dict[str, Any], body: bytes, batch_seconds: float) -> int:
    """Requests per batch so that one batch of ``wsgi`` takes about ``batch_seconds``."""
    count = 1
    while True:
        elapsed = run_batch(wsgi, environ, body, count)
        if elapsed >= batch_seconds / 4 or count >= 100_000:
            return max(1, min(100_000, round(count * batch_seconds / max(elapsed, 1e-9))))
        count *= 4


def measure(
    floor: Flask,
    vapi: Flask,
    cases: list[Case],
    rounds: int,
    batch_seconds: float,
    progress: Callable[[str], None],
) -> list[Cell]:
    """Interleaved rounds: in each round, every payload runs a floor and a vapi batch.

    The order of floor and vapi alternates from round to round; batches are paired by
    round, and ``gc.collect()`` runs (untimed) before each batch.
    """
    cells = []
    if cases:
        check_auth(vapi, cases[0])
    for case in cases:
        check(floor, case, b"{}")
        check(vapi, case, case.expect)
        environ = base_environ(case.body)
        run_batch(floor.wsgi_app, environ, case.body, 20)  # warm-up
        run_batch(vapi.wsgi_app, environ, case.body, 20)
        # Batch size from the slower of the two, so neither batch is too short.
        count = min(
            calibrate(floor.wsgi_app, environ, case.body, batch_seconds),
            calibrate(vapi.wsgi_app, environ, case.body, batch_seconds),
        )
        cells.append(Cell(case, count))
    for round_index in range(rounds):
        progress(f"round {round_index + 1}/{rounds}")
        for index, cell in enumerate(cells):
            environ = base_environ(cell.case.body)
            order = [("floor", floor), ("vapi", vapi)]
            if (round_index + index) % 2:
                order.reverse()
            for name, app in order:
                gc.collect()
                elapsed = run_batch(app.wsgi_app, environ, cell.case.body, cell.count)
                getattr(cell, name).append(elapsed / cell.count)
    return cells


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(x, y)`` points."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in points)
    den = sum((x - mean_x) ** 2 for x in xs)
    return num / den
