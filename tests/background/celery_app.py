"""What the test Celery worker imports (``celery -A tests.background.celery_app worker``).

Its config comes from the ``FLASK_VAPI_TEST_CELERY`` environment variable (JSON, see
:func:`tests.background.apps.create_app`).  Besides the app, it records in files when the
worker is ready and how each task execution ended, for the tests to wait on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from celery.signals import task_postrun, worker_ready

from tests.background.apps import create_app

CONFIG = json.loads(os.environ["FLASK_VAPI_TEST_CELERY"])
OUTPUT = Path(CONFIG["output"])

flask_app = create_app(CONFIG)
celery_app = flask_app.extensions["celery"]


@worker_ready.connect
def _ready(**_: Any) -> None:
    (OUTPUT / "worker-ready").write_text(str(os.getpid()), encoding="utf-8")


@task_postrun.connect
def _finished(args: Any = None, state: Any = None, **_: Any) -> None:
    """One line per execution: the message key, the receiver id and how it ended."""
    line = {"key": args[2], "receiver": args[1], "state": state}
    with (OUTPUT / "tasks.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
