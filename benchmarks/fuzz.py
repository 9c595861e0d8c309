"""The webhook fuzz properties (tests/fuzz) at many examples per JSON backend, as a table.

    python benchmarks/fuzz.py --examples 10000 [--property NAME] [--backend json|orjson]

A failing example is counted, not raised, so every property runs all its examples;
"statuses" counts the HTTP status of each answer (500: the request raised, which a
production server answers with a 500).  Exits 1 when any property failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the properties live in the tests package
    sys.path.insert(0, str(ROOT))

from hypothesis import settings  # noqa: E402

from tests.fuzz import harness  # noqa: E402
from tests.fuzz.backends import BACKENDS, use_backend  # noqa: E402
from tests.fuzz.properties import PROPERTIES, Property  # noqa: E402


@dataclass
class Tally:
    """What one property did on one backend."""

    examples: int = 0
    failures: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    first_failure: Optional[str] = None
    seconds: float = 0.0


def run(prop: Property, backend: str, examples: int, seed: Optional[int]) -> Tally:
    """Run ``prop`` on ``backend`` for ``examples`` examples, counting instead of raising."""
    tally = Tally()

    def observe(example: Any) -> None:
        tally.examples += 1
        try:
            prop.check(example)
        except Exception as exc:  # a broken promise: counted, reported once
            tally.failures += 1
            if tally.first_failure is None:
                parts = example if isinstance(example, tuple) else (example,)
                shown = ", ".join(repr(part)[:300] for part in parts)
                tally.first_failure = f"{type(exc).__name__}: {str(exc)[:200]}\n      {shown}"
        status = harness.LAST_STATUS[0]
        tally.statuses["500" if status is None else str(status)] += 1

    profile = settings(settings.get_profile("fuzz"), max_examples=examples)
    started = time.perf_counter()
    with use_backend(backend):
        prop.run(profile, observe=observe, seed=seed)
    tally.seconds = time.perf_counter() - started
    return tally


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="per property and backend")
    parser.add_argument("--property", action="append", choices=[p.name for p in PROPERTIES])
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    parser.add_argument("--seed", type=int, help="a random seed (default: derandomized)")
    args = parser.parse_args(argv)
    # Handler failures are logged by design; thousands of them would bury the table.
    logging.getLogger("flask_vapi").disabled = True

    chosen = [p for p in PROPERTIES if not args.property or p.name in args.property]
    rows = []
    for prop in chosen:
        for backend in args.backend or BACKENDS:
            print(f"  .. {prop.name} on {backend}", file=sys.stderr, flush=True)
            rows.append((prop.name, backend, run(prop, backend, args.examples, args.seed)))

    header = ("property", "backend", "examples", "failures", "seconds", "statuses seen")
    table = [
        (
            name,
            backend,
            str(tally.examples),
            str(tally.failures),
            f"{tally.seconds:.1f}",
            " ".join(f"{code}:{n}" for code, n in sorted(tally.statuses.items())),
        )
        for name, backend, tally in rows
    ]
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *table]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    failed = [(name, backend, tally) for name, backend, tally in rows if tally.failures]
    if failed:
        print("\nFirst failure of each failing property:")
        for name, backend, tally in failed:
            print(f"  {name} [{backend}]: {tally.first_failure}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
