"""The store's cost per request (deduplication + call state), memory/SQLite/Redis, vs the floor.

    python benchmarks/store.py [--http | --all] [--quick] [--strict] [--profile STORE:ROW]

Small messages on an app whose store is ``memory://``, a SQLite file or a private
``redis-server``: a ``status-update`` (deduplicated: one ``add`` per message), a
``tool-calls`` message with one call of a tool that writes ``call_state`` (a claim, the
state write and the remembered answer), and the same ``tool-calls`` with
``VAPI_DEDUPLICATE = False`` and no state (the store untouched: the control row).  Every
message sent is distinct; a second, informational table sends every message twice (the
redelivery path).  Targets: <= 1.30x the bare-Flask floor with SQLite, <= 1.50x with Redis.
The report is markdown on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import gc
import hashlib
import itertools
import logging
import math
import platform
import pstats
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the helper modules next to this file
    sys.path.insert(0, str(HERE))

import httpload  # noqa: E402
import inproc  # noqa: E402
from apps import FIVE_CALLS, SECRET, create_floor_app  # noqa: E402
from bench import Aggregate, busy_fraction, cpu_model, log, verdict, version  # noqa: E402
from cases import Case  # noqa: E402
from deadlines import markdown_table  # noqa: E402
from flask import Flask  # noqa: E402

import flask_vapi  # noqa: E402
from flask_vapi import VapiBlueprint, call_state, current_tool_call, jsonio, signals  # noqa: E402
from flask_vapi import payloads as p  # noqa: E402

STORES = ("memory", "sqlite", "redis")
#: The target ratio to the floor per store (memory: none, it is not shared).
TARGETS: dict[str, Optional[float]] = {"memory": None, "sqlite": 1.30, "redis": 1.50}
#: The call every message belongs to (the key of its call_state).
CALL_ID = "call_storebench_0001"
TOOL_RESULT = "Booked. Confirmation number RFC-48213."
OPERATIONS = ("get", "set", "add", "update", "expire", "delete")


# --------------------------------------------------------------------------- the app

_COUNTERS: dict[str, Counter[str]] = {}
_SERIAL = itertools.count(1)


def _receiver(sender: Flask, **extra: Any) -> None:
    """A trivial signal receiver (module level: blinker holds receivers weakly)."""


def _duplicate(sender: Flask, **extra: Any) -> None:
    _COUNTERS[sender.name]["duplicates"] += 1


def _store_error(sender: Flask, **extra: Any) -> None:
    _COUNTERS[sender.name]["store_errors"] += 1


def create_app(store_url: str, deduplicate: bool = True, state: bool = True) -> Flask:
    """flask_vapi on ``store_url`` with secret auth, trivial receivers and a
    ``bookAppointment`` tool that sets ``call_state["n"]`` when ``state`` (gunicorn imports
    this)."""
    app = Flask(f"vapi-{next(_SERIAL)} {store_url} dedup={deduplicate} state={state}")
    app.config.update(VAPI_SECRET=SECRET, VAPI_STORE_URL=store_url, VAPI_DEDUPLICATE=deduplicate)
    vapi = VapiBlueprint()

    @vapi.tool
    def bookAppointment(  # Vapi's wire names
        patientName: str, dateOfBirth: str, doctor: str, date: str, time: str
    ) -> str:
        if state:
            call_state["n"] = current_tool_call.id
        return TOOL_RESULT

    app.register_blueprint(vapi)
    app.extensions["storebench"] = vapi
    _COUNTERS[app.name] = Counter()
    for signal in (signals.message_received, signals.status_update, signals.tool_calls):
        signal.connect(_receiver, app)
    signals.duplicate_message.connect(_duplicate, app)
    signals.store_error.connect(_store_error, app)
    return app


# --------------------------------------------------------------------------- the messages


@dataclass
class Template:
    """A body whose ``marker`` is replaced by a fresh token of the same length per message."""

    name: str
    body: bytes
    marker: bytes
    token: Callable[[int], bytes]
    #: Bytes the vapi answer must contain, proving the handler ran.
    expect: bytes
    used: int = 0

    def make(self, index: int) -> bytes:
        token = self.token(index)
        if len(token) != len(self.marker):
            raise ValueError(f"{self.name}: token {token!r} is not {len(self.marker)} bytes")
        return self.body.replace(self.marker, token)

    def fresh(self, length: int, repeat: int = 1) -> Bodies:
        """``length`` bodies of messages never sent before in this run, each ``repeat``
        times in a row."""
        first, self.used = self.used + 1, self.used + math.ceil(length / repeat)
        return Bodies(self, first, length, repeat)


@dataclass(frozen=True)
class Bodies(Sequence[bytes]):
    """Bodies made on access: the body at position ``start + i`` is message
    ``first + (start + i) // repeat``."""

    template: Template
    first: int
    length: int
    repeat: int
    start: int = 0

    def __len__(self) -> int:
        return self.length - self.start

    def __getitem__(self, index: Any) -> Any:
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.template.make(self.first + (self.start + index) // self.repeat)

    def after(self, sent: int) -> Bodies:
        """The bodies after the first ``sent`` positions."""
        return Bodies(self.template, self.first, self.length, self.repeat, self.start + sent)

    def distinct(self, sent: int) -> int:
        """How many distinct messages the first ``sent`` positions hold."""
        return math.ceil(min(sent, self.length) / self.repeat)


@functools.cache
def templates() -> dict[str, Template]:
    """The two measured messages: a fresh timestamp / a fresh tool call id per message (one
    set per run: the stores outlive a table, so no message may be made twice)."""
    status = p.make_status_update()
    stamp = str(status["timestamp"]).encode()
    marker_id = "call_" + "0" * 24
    name, arguments = FIVE_CALLS[0]
    tools = p.make_tool_calls((name, arguments, marker_id))
    for message in (status, tools):
        message["call"]["id"] = CALL_ID
    return {
        "status-update": Template(
            "status-update",
            jsonio.dumps(p.wrap(status)),
            b'"timestamp":' + stamp,
            lambda i: b'"timestamp":%d' % (int(stamp) + i),
            b"{}",
        ),
        "tool-calls x1": Template(
            "tool-calls x1",
            jsonio.dumps(p.wrap(tools)),
            marker_id.encode(),
            lambda i: b"call_%024x" % i,
            TOOL_RESULT.encode(),
        ),
    }


@dataclass(frozen=True)
class Row:
    """One measured row: a store, a message, and how the app is configured."""

    store: str
    label: str
    template: str
    deduplicate: bool = True
    state: bool = True

    @property
    def target(self) -> Optional[float]:
        return TARGETS[self.store] if self.deduplicate else None

    def spec(self, url: str) -> str:
        """The gunicorn app spec of this row's vapi app."""
        return f"store:create_app({url!r}, deduplicate={self.deduplicate}, state={self.state})"


def rows_for(stores: Sequence[str]) -> list[Row]:
    rows = []
    for store in stores:
        rows.append(Row(store, "status-update", "status-update"))
        rows.append(Row(store, "tool-calls x1 + call_state", "tool-calls x1"))
        rows.append(Row(store, "tool-calls x1, control", "tool-calls x1", False, False))
    return rows


# --------------------------------------------------------------------------- the stores


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[tuple[str, int]]:
    """A private ``redis-server`` on 127.0.0.1 without persistence: its URL and pid.
    Stopped by its pid on exit (as tests/servers.py does)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not on PATH: apt-get install -y redis-server")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
    argv += ["--appendonly", "no", "--daemonize", "no"]
    with (workdir / "redis.log").open("wb") as out:
        proc = subprocess.Popen(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 20
        while not _redis_answers(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                text = (workdir / "redis.log").read_text(errors="replace")
                raise RuntimeError(f"redis-server did not start:\n{text}")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0", proc.pid
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@dataclass
class Stores:
    """The URL of each store of the run, and redis-server's pid."""

    urls: dict[str, str]
    redis_pid: Optional[int]

    def keys(self, store: str) -> Optional[int]:
        """Keys in ``store`` now (``None`` for memory://, private to its process)."""
        url = self.urls[store]
        if store == "sqlite":
            with contextlib.closing(sqlite3.connect(url[len("sqlite:///") :])) as conn:
                return int(conn.execute("SELECT count(*) FROM flask_vapi_store").fetchone()[0])
        if store == "redis":
            import redis

            with contextlib.closing(redis.Redis.from_url(url)) as client:
                return int(client.dbsize())
        return None

    def redis_cpu(self) -> float:
        return httpload.cpu_seconds(self.redis_pid) if self.redis_pid else 0.0


@contextlib.contextmanager
def open_stores(stores: Sequence[str]) -> Iterator[Stores]:
    """The stores of the run, in a private temporary folder removed at the end."""
    workdir = Path(tempfile.mkdtemp(prefix="flask-vapi-storebench-"))
    try:
        urls = {"memory": "memory://", "sqlite": f"sqlite:///{workdir / 'bench.sqlite3'}"}
        if "redis" not in stores:
            yield Stores(urls, None)
            return
        with redis_server(workdir) as (url, pid):
            yield Stores({**urls, "redis": url}, pid)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------- WSGI mode


def run_batch(app: Flask, environ: dict[str, Any], bodies: list[bytes]) -> float:
    """Seconds for one request per body (fresh environ copy and BytesIO each, answer read)."""
    failures: list[Any] = [0, ""]

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        if status[0] != "2":
            failures[:] = [failures[0] + 1, status]

    wsgi, copy, perf = app.wsgi_app, environ.copy, time.perf_counter
    start = perf()
    for body in bodies:
        inproc.call_wsgi(wsgi, copy(), body, start_response)
    elapsed = perf() - start
    if failures[0]:
        raise AssertionError(f"{app.name}: {failures[0]} answers like {failures[1]!r}")
    return elapsed


@contextlib.contextmanager
def timing_store(app: Flask) -> Iterator[dict[str, list[float]]]:
    """Wrap the store operations of ``app`` to time them: name -> [calls, seconds]."""
    backend = app.extensions["storebench"].settings_for(app).store
    spent: dict[str, list[float]] = {name: [0, 0.0] for name in OPERATIONS}

    def timed(totals: list[float], method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                totals[0] += 1
                totals[1] += time.perf_counter() - start

        return wrapper

    for name in OPERATIONS:
        setattr(backend, name, timed(spent[name], getattr(backend, name)))
    try:
        yield spent
    finally:
        for name in OPERATIONS:
            delattr(backend, name)


class WsgiCell:
    """One row of a WSGI table: its two apps, and the per-round times (an ``inproc.Cell``)."""

    def __init__(self, row: Row, template: Template, url: str, floor: Flask, repeat: int):
        self.row, self.template, self.repeat, self.floor = row, template, repeat, floor
        self.vapi = create_app(url, row.deduplicate, row.state)
        self.environ = inproc.base_environ(template.body)  # every body has the same length
        case = Case(row.label, template.body, target=row.target, expect=template.expect)
        self.cell = inproc.Cell(case, 1)
        #: Per instrumented batch: operation -> (calls, seconds) per request.
        self.in_store: list[dict[str, tuple[float, float]]] = []

    def check(self) -> None:
        """Fail loudly unless the vapi app answers, deduplicates and writes as configured."""
        body = self.template.fresh(1)[0]
        case = Case(self.row.label, body)
        logger = logging.getLogger("flask_vapi")
        level, logger.level = logger.level, logging.ERROR  # the 401 below is logged
        try:
            inproc.check_auth(self.vapi, case)
        finally:
            logger.setLevel(level)
        first, again = inproc.request_once(self.vapi, case), inproc.request_once(self.vapi, case)
        if not first[0].startswith("200") or self.template.expect not in first[1]:
            raise AssertionError(f"{self.vapi.name} answered {first}")
        if again != first:
            raise AssertionError(f"a redelivery was answered {again}, the first {first}")
        if _COUNTERS[self.vapi.name] != Counter(duplicates=int(self.row.deduplicate)):
            raise AssertionError(f"{self.vapi.name}: signals {_COUNTERS[self.vapi.name]}")
        if self.row.state and self.template.name.startswith("tool-calls"):
            with self.vapi.app_context():
                written = self.vapi.extensions["storebench"].call_state(CALL_ID).get("n")
            if written is None or written.encode() not in body:
                raise AssertionError(f"call_state['n'] is {written!r}, not the tool call id")

    def batch(self, count: int) -> list[bytes]:
        return list(self.template.fresh(count, self.repeat))

    def timed(self, app: Flask, bodies: list[bytes], keys: Callable[[], Optional[int]]) -> float:
        """Seconds per request of one batch; for vapi, the new keys and signals are checked."""
        if app is self.floor:
            gc.collect()
            return run_batch(app, self.environ, bodies) / len(bodies)
        before, seen = keys(), Counter(_COUNTERS[app.name])
        gc.collect()
        elapsed = run_batch(app, self.environ, bodies)
        distinct = math.ceil(len(bodies) / self.repeat)
        new_keys = distinct if self.row.deduplicate else 0
        after = keys()
        if before is not None and after is not None and after - before != new_keys:
            raise AssertionError(f"{self.row}: {after - before} new keys, not {new_keys}")
        new = _COUNTERS[app.name] - seen
        duplicates = len(bodies) - distinct if self.row.deduplicate else 0
        if new != Counter(duplicates=duplicates):
            raise AssertionError(f"{self.row}: signals {dict(new)}, not {duplicates} duplicates")
        return elapsed / len(bodies)


def in_store(cell: WsgiCell) -> dict[str, tuple[float, float]]:
    """One batch with the store operations timed: name -> (calls, seconds) per request."""
    bodies = cell.batch(cell.cell.count)
    with timing_store(cell.vapi) as spent:
        run_batch(cell.vapi, cell.environ, bodies)
    return {
        name: (calls / len(bodies), total / len(bodies)) for name, (calls, total) in spent.items()
    }


def calibrate(cell: WsgiCell, batch_seconds: float) -> int:
    """Requests per batch so that the slower app's batch takes about ``batch_seconds``."""
    count = 8
    while True:
        bodies = cell.batch(count)
        seconds = max(run_batch(app, cell.environ, bodies) for app in (cell.floor, cell.vapi))
        if seconds >= batch_seconds / 4 or count >= 10_000:
            wanted = round(count * batch_seconds / max(seconds, 1e-9))
            return max(cell.repeat, min(20_000, wanted) // cell.repeat * cell.repeat)
        count *= 4


def run_wsgi(rows: list[Row], stores: Stores, rounds: int, batch: float, repeat: int) -> bool:
    started = time.perf_counter()
    floor, shapes = create_floor_app(), templates()
    cells = [
        WsgiCell(row, shapes[row.template], stores.urls[row.store], floor, repeat) for row in rows
    ]
    for cell in cells:
        cell.check()
        cell.cell.count = calibrate(cell, batch)
    for round_index in range(rounds):
        log(f"wsgi x{repeat}: round {round_index + 1}/{rounds}")
        for index, cell in enumerate(cells):
            bodies = cell.batch(cell.cell.count)
            order = [("floor", cell.floor), ("vapi", cell.vapi)]
            for name, app in order[::-1] if (round_index + index) % 2 else order:
                keys = functools.partial(stores.keys, cell.row.store)
                getattr(cell.cell, name).append(cell.timed(app, bodies, keys))
    for cell in cells:  # apart from the timed batches: the time spent inside the store
        cell.in_store = [in_store(cell) for _ in range(max(3, rounds // 4))]
    elapsed = time.perf_counter() - started
    if repeat == 1:
        print(
            f"== WSGI: app.wsgi_app(environ, start_response), every message distinct; µs per "
            f"request, median of {rounds} interleaved rounds (~{batch * 1000:.0f} ms batches, "
            f"{elapsed:.0f} s)"
        )
    else:
        print(
            "== WSGI, informational (no targets): every message sent twice in a row (half the "
            f"requests are redeliveries), {rounds} rounds ({elapsed:.0f} s)"
        )
    print()
    table, ok = [], True
    for wsgi in cells:
        cell, target = wsgi.cell, wsgi.row.target if repeat == 1 else None
        passed = target is None or cell.ratio <= target
        ok &= passed
        low, high = cell.ratio_iqr
        ops = {name: calls for name, (calls, _) in wsgi.in_store[0].items() if calls}
        inside = statistics.median(sum(s for _, s in batch.values()) for batch in wsgi.in_store)
        table.append(
            [
                wsgi.row.store,
                wsgi.row.label,
                f"{len(wsgi.template.body):,}",
                f"{cell.floor_us:.1f}",
                f"{cell.vapi_us:.1f}",
                f"{cell.vapi_us - cell.floor_us:+.1f}",
                " + ".join(f"{n:g} {name}" for name, n in ops.items()) or "none",
                f"{inside * 1e6:.1f}",
                f"{cell.ratio:.3f}x",
                f"{low:.2f}-{high:.2f}",
                "-" if target is None else f"<= {target:.2f}x",
                "" if target is None else verdict(passed),
            ]
        )
    headers = "store|message|bytes|floor µs|vapi µs|Δ µs|store ops / req|in store µs|ratio"
    markdown_table([*headers.split("|"), "ratio IQR", "target", ""], table, left=2)
    print()
    return ok


# --------------------------------------------------------------------------- HTTP mode


def http_slice(
    which: str,
    row: Row,
    template: Template,
    stores: Stores,
    seconds: float,
    repeat: int,
    warmup: float,
    connections: int,
) -> tuple[httpload.LoadResult, float]:
    """A fresh server, probed, warmed up and measured: the result and redis's CPU seconds.

    For vapi, the keys the store gained are checked against the messages it was sent."""
    vapi = which == "vapi"
    spec = row.spec(stores.urls[row.store]) if vapi else None
    bodies = template.fresh(int(8_000 * (warmup + seconds)) + 1, repeat)  # more than it takes
    with httpload.Server(which, spec=spec) as server:
        httpload.probe(server, bodies[0], template.expect if vapi else b"{}")
        before = stores.keys(row.store) if vapi else None  # the app has created its table
        body, sent = template.body, 1
        warm = httpload.load(server, body, connections, warmup, 10**6, bodies.after(sent))
        sent += warm.requests + warm.errors
        cpu = stores.redis_cpu()
        result = httpload.load(server, body, connections, seconds, 10**6, bodies.after(sent))
        cpu = stores.redis_cpu() - cpu
        sent += result.requests + result.errors
    after = stores.keys(row.store) if before is not None else None
    expected = bodies.distinct(sent) - 1 if row.deduplicate else 0
    if before is not None and after is not None and after - before != expected:
        result.errors += 1
        result.first_error = result.first_error or (
            f"{after - before} new keys in the store, not {expected}"
        )
    return result, cpu


def run_http(
    rows: list[Row],
    stores: Stores,
    seconds: float,
    slices: int,
    warmup: float,
    connections: int,
    repeat: int,
) -> bool:
    started, shapes = time.perf_counter(), templates()
    measured = []
    for index, row in enumerate(rows):
        runs: dict[str, list[httpload.LoadResult]] = {"floor": [], "vapi": []}
        redis_cpu = []
        for slice_index in range(slices):
            order = ["floor", "vapi"] if (index + slice_index) % 2 == 0 else ["vapi", "floor"]
            for which in order:
                log(f"http x{repeat} {row.store} {row.label}: {which} {slice_index + 1}/{slices}")
                run, cpu = http_slice(
                    which,
                    row,
                    shapes[row.template],
                    stores,
                    seconds / slices,
                    repeat,
                    warmup,
                    connections,
                )
                runs[which].append(run)
                if which == "vapi":
                    redis_cpu.append(cpu)
        measured.append((row, runs, redis_cpu))
    elapsed = time.perf_counter() - started
    if repeat == 1:
        print(
            f"== HTTP: gunicorn -k sync -w 1 on 127.0.0.1, {connections} client connections, "
            f"every message distinct; {seconds:g} s per app per row in {slices} alternating "
            f"slice(s), {warmup:g} s warm-up per server start ({elapsed:.0f} s)"
        )
    else:
        print(
            f"== HTTP, informational (no targets): every message sent twice in a row "
            f"({elapsed:.0f} s)"
        )
    print()
    table, ok = [], True
    for row, runs, redis_cpu in measured:
        floor, vapi = Aggregate(runs["floor"]), Aggregate(runs["vapi"])
        ratios = [f.rps / v.rps for f, v in zip(runs["floor"], runs["vapi"]) if v.rps]
        ratio = statistics.median(ratios) if ratios else float("nan")
        target = row.target if repeat == 1 else None
        errors = floor.errors + vapi.errors
        passed = errors == 0 and (target is None or ratio <= target)
        ok &= passed
        requests = sum(run.requests for run in runs["vapi"])
        # redis-server is part of the system measured, not noise: it has its own column.
        other = max(
            (
                max(0.0, run.other_busy - cpu / run.seconds)
                for run, cpu in zip(runs["vapi"], redis_cpu)
                if run.seconds
            ),
            default=0.0,
        )
        shown = "" if target is None else verdict(passed)
        if errors:
            shown = f"MISS: {errors} errors ({floor.first_error or vapi.first_error})"
        table.append(
            [
                row.store,
                row.label,
                f"{floor.rps:,.0f}",
                f"{vapi.rps:,.0f}",
                f"{1e6 / floor.rps:.0f}" if floor.rps else "-",
                f"{1e6 / vapi.rps:.0f}" if vapi.rps else "-",
                f"{ratio:.3f}x",
                f"{floor.p50:.2f} / {floor.p99:.2f}",
                f"{vapi.p50:.2f} / {vapi.p99:.2f}",
                f"{floor.cpu_us:.0f} / {vapi.cpu_us:.0f}",
                f"{sum(redis_cpu) / requests * 1e6:.0f}"
                if requests and row.store == "redis"
                else "-",
                f"{floor.busy:.0%} / {vapi.busy:.0%}",
                f"{max(floor.other, other):.0%}",
                "-" if target is None else f"<= {target:.2f}x",
                shown,
            ]
        )
    headers = (
        "store|message|floor req/s|vapi req/s|floor µs|vapi µs|ratio|p50 / p99 ms floor|"
        "p50 / p99 ms vapi|srv CPU µs f / v|redis CPU µs|srv busy f / v|other CPU|target|"
    )
    markdown_table(headers.split("|"), table, left=2)
    print()
    return ok


# --------------------------------------------------------------------------- profiling


def profile(which: str, stores: Stores, requests: int) -> None:
    """Where the time of one row goes: per store operation, then cProfile's top list."""
    store, _, label = which.partition(":")
    rows = [row for row in rows_for([store]) if label and label in row.label]
    if not rows:
        raise SystemExit("--profile STORE:ROW, e.g. sqlite:status or redis:call_state")
    row, template = rows[0], templates()[rows[0].template]
    cell = WsgiCell(row, template, stores.urls[store], create_floor_app(), 1)
    cell.check()
    run_batch(cell.vapi, cell.environ, cell.batch(200))
    floor = run_batch(cell.floor, cell.environ, cell.batch(requests)) / requests
    vapi = run_batch(cell.vapi, cell.environ, cell.batch(requests)) / requests
    cell.cell.count = requests
    spent = in_store(cell)
    digest = timeit.timeit(lambda: hashlib.sha256(template.body).hexdigest(), number=10_000)
    print(f"== Profile of {requests:,} distinct requests: {row.store} / {row.label}")
    print()
    print(
        f"floor {floor * 1e6:.1f} µs, vapi {vapi * 1e6:.1f} µs per request ({vapi / floor:.3f}x); "
        f"sha256 of the body (the message key): {digest * 100:.1f} µs; inside the store:"
    )
    print()
    table = [
        [name, f"{calls:.2f}", f"{total / calls * 1e6:.1f}", f"{total * 1e6:.1f}"]
        for name, (calls, total) in spent.items()
        if calls
    ]
    markdown_table(["store operation", "calls / request", "µs / call", "µs / request"], table)
    print()
    profiler = cProfile.Profile()
    profiler.runcall(run_batch, cell.vapi, cell.environ, cell.batch(requests))
    print("cProfile, top 30 by own time (its overhead inflates Python-level calls):")
    print()
    print("```text")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(30)
    print("```")


# --------------------------------------------------------------------------- main


def print_header(modes: list[str], quick: bool, stores: Stores) -> None:
    print(f"flask_vapi store benchmark: {', '.join(modes)}{' (--quick)' if quick else ''}")
    print()
    print(f"- machine: {platform.platform()}, {cpu_model()}")
    print(
        f"- python: {platform.python_version()}; flask {version('flask')}, gunicorn "
        f"{version('gunicorn')}, redis-py {version('redis')}, orjson {version('orjson')}; "
        f"SQLite {sqlite3.sqlite_version}"
    )
    if stores.redis_pid:
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
        print(
            f"- redis-server: {out.stdout.split()[2]} (private, 127.0.0.1, --save '' "
            "--appendonly no)"
        )
    print(
        f"- library: flask_vapi {flask_vapi.__version__} ({Path(flask_vapi.__file__).parent}); "
        f"flask_vapi.jsonio.BACKEND = {jsonio.BACKEND!r}"
    )
    print("- floor: a bare Flask view at the same URL: request.get_json() + jsonify({})")
    busy = busy_fraction()
    if busy is not None:
        note = " (other processes are busy: expect noise)" if busy > 0.15 else ""
        print(f"- load: {busy:.0%} of all CPUs busy in the second before the run{note}")
    print()


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="smoke run (about 30 s with --all)")
    add("--wsgi", action="store_true", help="in-process WSGI mode (default)")
    add("--http", action="store_true", help="gunicorn + load generator mode")
    add("--all", action="store_true", help="both modes")
    add("--stores", default=",".join(STORES), help="comma-separated: memory,sqlite,redis")
    add("--no-twice", action="store_true", help="skip the redelivery tables")
    add("--rounds", type=int, help="WSGI rounds (default 25, quick 5)")
    add("--batch-ms", type=float, help="WSGI batch length (default 40, quick 10)")
    add("--seconds", type=float, help="HTTP load per app per row (default 6, quick 0.6)")
    add("--slices", type=int, help="HTTP alternating slices per app (default 3, quick 1)")
    add("--connections", type=int, default=2, help="HTTP client connections (2)")
    add("--profile", metavar="STORE:ROW", help="profile one row (e.g. sqlite:status) and exit")
    add("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    quick = args.quick
    chosen = [name.strip() for name in args.stores.split(",") if name.strip()]
    if args.profile:
        chosen = [args.profile.partition(":")[0]]
    unknown = sorted(set(chosen) - set(STORES))
    if unknown:
        raise SystemExit(f"unknown store {', '.join(unknown)}; known: {', '.join(STORES)}")
    modes = [m for m in ("wsgi", "http") if args.all or getattr(args, m)] or ["wsgi"]
    ok = True
    with open_stores(chosen) as stores:
        if args.profile:
            profile(args.profile, stores, 2_000 if quick else 20_000)
            return 0
        print_header(modes, quick, stores)
        rows = rows_for(chosen)
        repeats = (1,) if args.no_twice else (1, 2)
        for repeat in repeats if "wsgi" in modes else ():
            rounds = args.rounds or (5 if quick else 25)
            batch = (args.batch_ms or (10 if quick else 40)) / 1000
            ok &= run_wsgi(rows, stores, rounds, batch, repeat)
        for repeat in (repeats if not quick else (1,)) if "http" in modes else ():
            seconds = args.seconds or (0.6 if quick else 6.0)
            slices = args.slices or (1 if quick else 3)
            warmup = 0.2 if quick else 0.5
            ok &= run_http(rows, stores, seconds, slices, warmup, args.connections, repeat)
    print("all targets met" if ok else "some targets missed (see MISS above)")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
