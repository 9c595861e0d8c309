"""A ThreadRunner busy at os.fork() runs the child's jobs in the child, and the parent's still."""

from __future__ import annotations

import os
import threading
import warnings

from flask import Flask

from flask_vapi import VapiBlueprint
from flask_vapi.background.receivers import ThreadRunner, register
from flask_vapi.models.messages import EndOfCallReport, Message
from flask_vapi.payloads import make_end_of_call_report

vapi = VapiBlueprint()
app = Flask("fork_pool")
message = EndOfCallReport.load(make_end_of_call_report())
runner = ThreadRunner(max_workers=1)
started, release, done = threading.Event(), threading.Event(), threading.Event()


def block(message: Message) -> None:
    started.set()
    release.wait(30)


def finish(message: Message) -> None:
    done.set()


blocking = register(vapi, block, ["end-of-call-report"])
finishing = register(vapi, finish, ["end-of-call-report"])
runner.submit(app, message, blocking, key="k", raw={})
assert started.wait(30)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a threaded process
    pid = os.fork()
if pid == 0:
    # The parent's busy thread is not in this process: the job needs a thread of its own.
    runner.submit(app, message, finishing, key="k", raw={})
    os._exit(0 if done.wait(10) and runner.threads == 1 else 1)
release.set()
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, "the child's job did not run"
runner.submit(app, message, finishing, key="k", raw={})
assert done.wait(30)
runner.shutdown(30)
print("ok")
