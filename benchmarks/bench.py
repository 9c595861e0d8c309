"""Per-request cost of flask_vapi against a bare-Flask floor: WSGI, HTTP (gunicorn) and memory."""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import platform
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the helper modules next to this file
    sys.path.insert(0, str(HERE))

import apps  # noqa: E402
import cases  # noqa: E402
import httpload  # noqa: E402
import inproc  # noqa: E402
import memory  # noqa: E402

import flask_vapi  # noqa: E402
from flask_vapi import jsonio  # noqa: E402

KIB_PER_MIB = 1024


def log(text: str) -> None:
    """Progress on stderr, so stdout holds only the report."""
    print(f"  .. {text}", file=sys.stderr, flush=True)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_table(headers: list[str], rows: list[list[str]], right: int = 1) -> None:
    """A plain-text table; columns from index ``right`` on are right-aligned."""
    if any(len(row) != len(headers) for row in rows):
        raise ValueError("every row needs one cell per header")
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]

    def line(cells: list[str]) -> str:
        out = []
        for index, (cell, width) in enumerate(zip(cells, widths)):
            out.append(str(cell).rjust(width) if index >= right else str(cell).ljust(width))
        return "  ".join(out).rstrip()

    print(line(headers))
    print("  ".join("-" * width for width in widths).rstrip())
    for row in rows:
        print(line(row))


# --------------------------------------------------------------------------- header


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def busy_fraction(seconds: float = 1.0) -> Optional[float]:
    """Share of all CPUs busy (any process) over ``seconds``, from ``/proc/stat``."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]
        return sum(values), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except OSError:
        return None
    total = total1 - total0
    return 1 - (idle1 - idle0) / total if total else None


def print_header(modes: list[str], quick: bool) -> None:
    print(f"flask_vapi benchmark: {', '.join(modes)}{' (--quick)' if quick else ''}")
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print(
        f"machine:  {platform.platform()}, {cpu_model()}, nproc {os.cpu_count()} "
        f"(usable {affinity})"
    )
    print(
        f"python:   {platform.python_version()} ({platform.python_implementation()}); "
        f"flask {version('flask')}, werkzeug {version('werkzeug')}, "
        f"marshmallow {version('marshmallow')}, orjson {version('orjson')}, "
        f"blinker {version('blinker')}, gunicorn {version('gunicorn')}"
    )
    print(
        f"library:  flask_vapi {flask_vapi.__version__} ({Path(flask_vapi.__file__).parent}); "
        f"flask_vapi.jsonio.BACKEND = {jsonio.BACKEND!r}"
    )
    print(
        "floor:    bare Flask view at the same URL: request.get_json() + jsonify({}) "
        "(Flask's default JSON provider: stdlib json)"
    )
    print(
        "vapi:     VapiBlueprint, VAPI_SECRET + X-Vapi-Secret header, a trivial receiver on "
        "every signal used, 5 tools, an assistant_request responder"
    )
    busy = busy_fraction()
    if busy is not None:
        note = "  <- other processes are busy: expect noise" if busy > 0.15 else ""
        print(f"load:     {busy:.0%} of all CPUs busy in the second before the run{note}")
    print()


# --------------------------------------------------------------------------- WSGI mode


def run_wsgi(
    selected: list[cases.Case], rounds: int, batch_seconds: float, read_history: bool
) -> bool:
    floor, vapi = apps.create_floor_app(), apps.create_vapi_app()
    started = time.perf_counter()
    cells = inproc.measure(floor, vapi, selected, rounds, batch_seconds, log)
    elapsed = time.perf_counter() - started
    print(
        f"== WSGI: app.wsgi_app(environ, start_response), µs per request; median of {rounds} "
        f"interleaved rounds (~{batch_seconds * 1000:.0f} ms batches, {elapsed:.0f} s)"
    )
    ok = print_cells(cells, targets=True)
    ok &= print_slopes(cells, "vapi", targets=True)

    growing = [case for case in selected if case.messages is not None]
    if read_history and growing:
        reader = apps.create_vapi_app(read_history=True)
        started = time.perf_counter()
        cells = inproc.measure(floor, reader, growing, rounds, batch_seconds, log)
        elapsed = time.perf_counter() - started
        print(
            "== WSGI, informational (no targets): the end-of-call-report / conversation-update "
            "receiver reads the history, message.artifact.messages / message.messages "
            f"({elapsed:.0f} s)"
        )
        print_cells(cells, targets=False)
        print_slopes(cells, "vapi+read", targets=False)
    return ok


def print_cells(cells: list[inproc.Cell], targets: bool) -> bool:
    rows, ok = [], True
    for cell in cells:
        target = cell.case.target if targets else None
        if target is None:
            result, goal = "", ""
        else:
            passed = cell.ratio <= target
            ok &= passed
            result, goal = verdict(passed), f"<= {target:.2f}x"
        low, high = cell.ratio_iqr
        rows.append(
            [
                cell.case.name,
                f"{len(cell.case.body):,}",
                f"{cell.floor_us:.1f}",
                f"{cell.vapi_us:.1f}",
                f"{cell.vapi_us - cell.floor_us:+.1f}",
                f"{cell.ratio:.3f}x",
                f"{low:.2f}-{high:.2f}",
                goal,
                result,
            ]
        )
    print_table(
        ["payload", "bytes", "floor µs", "vapi µs", "Δ µs", "ratio", "ratio IQR", "target", ""],
        rows,
    )
    print()
    return ok


def print_slopes(cells: list[inproc.Cell], label: str, targets: bool) -> bool:
    by_name = {cell.case.name: cell for cell in cells}
    rows, ok = [], True
    for kind, _ in cases.GROWING:
        sized = [by_name[name] for size in cases.SIZES if (name := f"{kind} {size}") in by_name]
        if len(sized) < 2:
            continue
        floor_slope = inproc.slope([(c.size, c.floor_us) for c in sized])
        vapi_slope = inproc.slope([(c.size, c.vapi_us) for c in sized])
        passed = vapi_slope <= floor_slope
        ok &= passed or not targets
        rows.append(
            [
                kind,
                f"{floor_slope:.3f}",
                f"{vapi_slope:.3f}",
                f"{vapi_slope / floor_slope:.2f}x",
                "<= floor" if targets else "",
                verdict(passed) if targets else "",
            ]
        )
    if rows:
        print(
            "== Marginal cost per history message "
            f"(least-squares slope over {'/'.join(map(str, cases.SIZES))} messages)"
        )
        print_table(["payload", "floor µs/msg", f"{label} µs/msg", "ratio", "target", ""], rows)
        print()
    return ok


# --------------------------------------------------------------------------- HTTP mode


def run_http(
    selected: list[cases.Case],
    seconds: float,
    slices: int,
    warmup: float,
    connections: int,
    max_requests: int,
) -> bool:
    started = time.perf_counter()
    rows, ok, client_busy = [], True, 0.0
    slice_seconds = seconds / slices
    for index, case in enumerate(selected):
        runs: dict[str, list[httpload.LoadResult]] = {"floor": [], "vapi": []}
        for slice_index in range(slices):
            order = ["floor", "vapi"] if (index + slice_index) % 2 == 0 else ["vapi", "floor"]
            for which in order:
                log(f"http {case.name}: {which} slice {slice_index + 1}/{slices}")
                with httpload.Server(which) as server:
                    httpload.probe(server, case.body, b"{}" if which == "floor" else case.expect)
                    httpload.load(server, case.body, connections, warmup, max_requests)
                    result = httpload.load(
                        server, case.body, connections, slice_seconds, max_requests
                    )
                runs[which].append(result)
                client_busy = max(client_busy, result.client_cpu / result.seconds)
        floor, vapi = Aggregate(runs["floor"]), Aggregate(runs["vapi"])
        ratios = [v.rps / f.rps for f, v in zip(runs["floor"], runs["vapi"]) if f.rps]
        ratio = statistics.median(ratios) if ratios else float("nan")
        errors = floor.errors + vapi.errors
        passed = ratio >= 0.9 and errors == 0
        ok &= passed
        first_error = floor.first_error or vapi.first_error
        rows.append(
            [
                case.name,
                f"{floor.rps:,.0f}",
                f"{vapi.rps:,.0f}",
                f"{ratio:.3f}x",
                f"{floor.p50:.2f} / {floor.p99:.2f}",
                f"{vapi.p50:.2f} / {vapi.p99:.2f}",
                f"{floor.cpu_us:.0f} / {vapi.cpu_us:.0f}",
                f"{floor.busy:.0%} / {vapi.busy:.0%}",
                f"{max(floor.other, vapi.other):.0%}",
                ">= 0.90x",
                verdict(passed) if not errors else f"MISS: {errors} errors ({first_error})",
            ]
        )
    elapsed = time.perf_counter() - started
    print(
        f"== HTTP: gunicorn -k sync -w 1 on 127.0.0.1, {connections} client connections, "
        f"{seconds:g} s per app per payload in {slices} alternating slice(s), "
        f"{warmup:g} s warm-up per server start ({elapsed:.0f} s)"
    )
    print_table(
        [
            "payload",
            "floor req/s",
            "vapi req/s",
            "ratio",
            "p50 / p99 ms floor",
            "p50 / p99 ms vapi",
            "srv CPU µs/req f / v",
            "srv busy f / v",
            "other CPU",
            "target",
            "",
        ],
        rows,
    )
    print(
        f"   non-200 answers or socket errors: none unless shown; the load generator used at "
        f"most {client_busy:.0%} of one CPU"
    )
    print()
    return ok


class Aggregate:
    """Several load slices of one app pooled: req/s over the total time, pooled latencies."""

    def __init__(self, results: list[httpload.LoadResult]) -> None:
        requests = sum(result.requests for result in results)
        seconds = sum(result.seconds for result in results)
        self.rps = requests / seconds if seconds else 0.0
        pooled = httpload.LoadResult(
            requests, 0, seconds, [lat for result in results for lat in result.latencies]
        )
        self.p50 = pooled.latency_ms(0.50)
        self.p99 = pooled.latency_ms(0.99)
        cpu = sum(result.server_cpu for result in results)
        self.cpu_us = cpu / requests * 1e6 if requests else float("nan")
        self.busy = cpu / seconds if seconds else 0.0
        self.errors = sum(result.errors for result in results)
        self.first_error = next((r.first_error for r in results if r.first_error), "")
        #: The most CPU other processes used during one slice (noise), in units of one CPU.
        self.other = max((result.other_busy for result in results), default=0.0)


# --------------------------------------------------------------------------- memory mode


def run_memory(total: int, limit_kib: int) -> bool:
    rows, ok = [], True
    started = time.perf_counter()
    for which in ("floor", "vapi"):
        log(f"memory: {which}, {total:,} requests in a fresh interpreter")
        result = memory.run(which, total, Path(__file__).resolve())
        points = result["points"]
        first, last = points[0], points[-1]
        growth = last["rss_kib"] - first["rss_kib"]
        objects = last["objects"] - first["objects"]
        passed = growth <= limit_kib and result["failures"] == 0
        ok &= passed or which == "floor"
        rows.append(
            [
                which,
                *(f"{point['rss_kib'] / KIB_PER_MIB:.1f}" for point in points),
                f"{growth:+,} KiB",
                f"{objects:+,}",
                str(result["failures"]),
                f"<= {limit_kib:,} KiB" if which == "vapi" else "(reference)",
                verdict(passed) if which == "vapi" else "",
            ]
        )
    elapsed = time.perf_counter() - started
    checkpoints = [f"RSS MiB @{p['requests']:,}" for p in points]
    print(
        f"== Memory: in-process app, mixed payloads (large ones at a lower rate), gc.collect() "
        f"before each reading, fresh interpreter per app ({elapsed:.0f} s)"
    )
    mix = ", ".join(f"{name} {weight}" for name, weight in memory.MIX_PER_1000.items())
    print(f"   mix per 1000 requests: {mix}")
    print_table(
        [
            "app",
            *checkpoints,
            f"growth {points[0]['requests']:,}->{points[-1]['requests']:,}",
            "gc objects",
            "non-200",
            "target",
            "",
        ],
        rows,
    )
    print()
    return ok


# --------------------------------------------------------------------------- profiling


def profile(name: str, requests: int, which: str) -> None:
    """Profile ``requests`` requests of one payload (pyinstrument when installed, else cProfile)."""
    selected = cases.select(cases.build_cases(), name)[0]
    app = apps.create_vapi_app() if which == "vapi" else apps.create_floor_app()
    environ = inproc.base_environ(selected.body)
    inproc.run_batch(app.wsgi_app, environ, selected.body, 200)
    run = functools.partial(inproc.run_batch, app.wsgi_app, environ, selected.body, requests)
    print(f"== Profile of {requests:,} {which} requests: {selected.name}")
    try:
        from pyinstrument import Profiler
    except ImportError:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(run)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return
    sampler = Profiler(interval=0.0002)
    sampler.start()
    run()
    sampler.stop()
    print(sampler.output_text(unicode=True, color=False, show_all=False))


# --------------------------------------------------------------------------- main


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (about a minute)")
    parser.add_argument("--wsgi", action="store_true", help="in-process WSGI mode (default)")
    parser.add_argument("--http", action="store_true", help="gunicorn + load generator mode")
    parser.add_argument("--memory", action="store_true", help="RSS growth mode")
    parser.add_argument("--all", action="store_true", help="all three modes")
    parser.add_argument("--only", help="comma-separated payload name fragments (WSGI/HTTP)")
    parser.add_argument("--rounds", type=int, help="WSGI rounds (default 25, quick 7)")
    parser.add_argument("--batch-ms", type=float, help="WSGI batch length (default 40, quick 15)")
    parser.add_argument(
        "--no-read", action="store_true", help="skip the informational history-reading table"
    )
    parser.add_argument("--seconds", type=float, help="HTTP load per app per payload (10/1.2)")
    parser.add_argument("--slices", type=int, help="HTTP alternating slices per app (5/1)")
    parser.add_argument("--connections", type=int, default=2, help="HTTP client connections")
    parser.add_argument("--memory-requests", type=int, help="memory mode requests (100k/20k)")
    parser.add_argument("--memory-limit-kib", type=int, default=1024, help="allowed RSS growth")
    parser.add_argument("--profile", metavar="PAYLOAD", help="profile one payload and exit")
    parser.add_argument("--profile-app", choices=["vapi", "floor"], default="vapi")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--memory-child", choices=["vapi", "floor"], help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    quick = args.quick
    if args.memory_child:
        total = args.memory_requests or 100_000
        print(json.dumps(memory.child(args.memory_child, total)))
        return 0
    if args.profile:
        profile(args.profile, 2_000 if quick else 20_000, args.profile_app)
        return 0

    modes = [m for m in ("wsgi", "http", "memory") if args.all or getattr(args, m)] or ["wsgi"]
    print_header(modes, quick)
    selected = cases.select(cases.build_cases(), args.only)
    gc.collect()
    ok = True
    if "wsgi" in modes:
        ok &= run_wsgi(
            selected,
            rounds=args.rounds or (7 if quick else 25),
            batch_seconds=(args.batch_ms or (15 if quick else 40)) / 1000,
            read_history=not args.no_read,
        )
    if "http" in modes:
        ok &= run_http(
            selected,
            seconds=args.seconds or (1.2 if quick else 10.0),
            slices=args.slices or (1 if quick else 5),
            warmup=0.3 if quick else 0.5,
            connections=args.connections,
            max_requests=1_000_000,
        )
    if "memory" in modes:
        ok &= run_memory(
            args.memory_requests or (20_000 if quick else 100_000), args.memory_limit_kib
        )
    print("all targets met" if ok else "some targets missed (see MISS above)")
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
