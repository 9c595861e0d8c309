"""Fork safety of the SQLite store, run by test_fork.py as ``python fork_check.py DB_PATH``.

The parent forks while one of its threads is inside ``update`` (lock held, transaction
open): the child must neither inherit that transaction nor use the parent's connection or
lock.  Then two more children (workers) and the parent increment one counter, the
parent's checkpoint thread running (it checkpoints every few writes here).  Exit status 0
and "ok" on stdout when all is well.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

from flask_vapi.store import sqlite
from flask_vapi.store.sqlite import SQLiteStore

CHILD_TIMEOUT = 60  # seconds: a child that hangs (on an inherited lock) is killed by SIGALRM


def increment(old: bytes | None) -> bytes:
    return json.dumps((json.loads(old) if old else 0) + 1).encode()


def fork(body: object) -> int:
    pid = os.fork()
    if pid == 0:
        signal.alarm(CHILD_TIMEOUT)
        try:
            body()  # type: ignore[operator]
        except BaseException as exc:
            print(f"child failed: {exc!r}", file=sys.stderr, flush=True)
            os._exit(1)
        os._exit(0)
    return pid


def wait(pid: int) -> None:
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, f"child {pid}: status {status}"


def main(path: str) -> None:
    sqlite.CHECKPOINT_EVERY = 3  # a checkpoint thread exists before the forks below
    store = SQLiteStore(path)
    store.set("parent", b"before fork", None)

    # fork() while a thread of the parent is inside update (store lock held, transaction
    # open): the fork must wait for it, else the child inherits a half-done transaction.
    inside, release = threading.Event(), threading.Event()

    def hold(old: bytes | None) -> bytes:
        inside.set()
        assert release.wait(CHILD_TIMEOUT)
        return b"held"

    holder = threading.Thread(target=store.update, args=("held", hold, None))
    holder.start()
    assert inside.wait(CHILD_TIMEOUT)
    threading.Timer(0.2, release.set).start()  # lets the holder finish while fork() waits

    def first_child() -> None:
        assert store.get("parent") == b"before fork"
        assert store.get("held") == b"held"
        for _ in range(10):
            store.update("counter", increment, None)

    child = fork(first_child)
    holder.join(CHILD_TIMEOUT)
    wait(child)
    assert store.get("held") == b"held"

    # As gunicorn does: two workers forked from a parent that used the store.
    def worker() -> None:
        for _ in range(10):
            store.update("counter", increment, None)

    workers = [fork(worker), fork(worker)]
    worker()
    for pid in workers:
        wait(pid)
    assert store.get("counter") == b"40", store.get("counter")
    assert any(t.name == "flask-vapi-sqlite-checkpoint" for t in threading.enumerate())
    store.close()
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1])
