"""Submit a job to a ThreadRunner and return at once: the interpreter's exit must wait for it.

The job waits until the interpreter is exiting (an atexit hook, run before the runner's
drain), so it cannot have finished when the script's last line runs.
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
exiting = threading.Event()
atexit.register(exiting.set)  # registered after the runner's drain, so run before it


def write(message: Message) -> None:
    exiting.wait(30)
    time.sleep(0.2)  # without the drain, finalization would kill this thread meanwhile
    target.write_text("the queued job ran")


vapi = VapiBlueprint()
app = Flask("exit_drain")
runner = ThreadRunner()
message = EndOfCallReport.load(make_end_of_call_report())
runner.submit(app, message, register(vapi, write, ["end-of-call-report"]), key="k", raw={})
assert not target.exists()
print("submitted")
