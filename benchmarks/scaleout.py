"""The multi-instance run as a table: two gunicorn instances, one Redis, a Celery worker.

    python benchmarks/scaleout.py [--tool-messages 400] [--status-messages 200] [--clients 16]

The scenario of ``tests/background/test_scale_out.py``, larger: every message is sent 1 to 3
times in a random order to two gunicorn instances of 2 sync workers each, sharing a private
``redis-server`` (127.0.0.1, a free port) with a real Celery worker; one web worker is
killed with SIGKILL a quarter of the way in (``--no-kill`` to leave it).  Prints what was
sent and what ran: each tool must run once (at most once for a call in flight on the
killed worker), each Celery-backed background receiver exactly once, and the answers to
redeliveries must equal the first answers.  Exits 1 otherwise.  Needs
``pip install -e '.[test]'`` and ``redis-server`` (``apt-get install -y redis-server``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the scenario lives in the tests package
    sys.path.insert(0, str(ROOT))

from tests.background import scaleout  # noqa: E402
from tests.background.worker import CeleryWorker  # noqa: E402
from tests.servers import start_redis  # noqa: E402


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tool-messages", type=int, default=400)
    parser.add_argument("--status-messages", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--no-kill", action="store_true", help="kill no web worker")
    args = parser.parse_args(argv)

    redis = start_redis()
    try:
        base = redis.url.rsplit("/", 1)[0]
        with tempfile.TemporaryDirectory(prefix="vapi-scaleout-") as output:
            config = {
                "broker": f"{base}/1",
                "backend": f"{base}/2",
                "store": f"{base}/3?key_prefix=bench-{uuid.uuid4().hex}:",
                "output": output,
                "marker": "worker",
                "max_retries": 2,
            }
            worker = CeleryWorker(config)
            worker.start()
            try:
                run = scaleout.run(
                    config,
                    Path(output),
                    tool_messages=args.tool_messages,
                    status_messages=args.status_messages,
                    clients=args.clients,
                    kill_at=None if args.no_kill else 0.25,
                )
            finally:
                worker.stop()
    finally:
        redis.stop()

    print(
        "== Scale-out: 2 gunicorn instances x 2 sync workers, one redis-server, one Celery "
        f"worker (threads, 2); {args.clients} clients; every message sent 1-3 times"
        + ("" if args.no_kill else "; one web worker SIGKILLed mid-run")
    )
    print(run.table())
    once = all(
        runs == 1 or (call_id in run.retried and runs <= 1)
        for call_id, runs in run.tool_runs.items()
    )
    ok = (
        once
        and set(run.background_runs.values()) == {1}
        and run.differing_answers == 0
        and run.errors == 0
    )
    verdict = "each tool ran once (at most once if in flight on the killed worker), each "
    print(verdict + "background receiver once" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
