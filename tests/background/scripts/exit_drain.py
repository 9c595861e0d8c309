"""Submit a job to a ThreadRunner and return at once: the interpreter's exit must wait for it.

The job waits until the interpreter is exiting (an atexit hook, run before the runner's
drain), so it cannot have finished when the script's last line runs.  With ``async``, the
queued job is an ``async def`` receiver that starts only during the drain, when no new
thread or executor may be started any more.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from pathlib import Path

from flask import Flask

from flask_vapi import VapiBlueprint
from flask_vapi.background.receivers import ThreadRunner, register
from flask_vapi.models.messages import EndOfCallReport, Message
from flask_vapi.payloads import make_end_of_call_report

target = Path(sys.argv[1])
mode = sys.argv[2] if len(sys.argv) > 2 else "sync"
exiting = threading.Event()
atexit.register(exiting.set)  # registered after the runner's drain, so run before it


def wait_for_exit(message: Message) -> None:
    exiting.wait(30)
    time.sleep(0.2)  # without the drain, finalization would kill this thread meanwhile


def write(message: Message) -> None:
    wait_for_exit(message)
    target.write_text("the queued job ran")


async def write_async(message: Message) -> None:
    target.write_text("the queued async job ran")


async def warm_up(message: Message) -> None:
    warmed.set()


vapi = VapiBlueprint()
app = Flask("exit_drain")
runner = ThreadRunner(max_workers=1)
message = EndOfCallReport.load(make_end_of_call_report())
types = ["end-of-call-report"]
if mode == "async":
    warmed = threading.Event()  # an app that ran an async receiver before (asgiref imported)
    runner.submit(app, message, register(vapi, warm_up, types), key="k", raw={})
    assert warmed.wait(30)
    for func in (wait_for_exit, write_async):  # the second starts during the drain
        runner.submit(app, message, register(vapi, func, types), key="k", raw={})
else:
    runner.submit(app, message, register(vapi, write, types), key="k", raw={})
assert not target.exists()
print("submitted")
