"""Keep a handler's thread on the CPU of the request that waits for it (Linux only).

While a request waits for its handler, its own CPU is idle.  Woken on another CPU, the
handler's thread costs an inter-processor wake-up each way: on a virtual machine whose
idle vCPUs halt, about 30 µs each, measured here (4 µs for the same round trip on one
CPU).  So the thread is pinned to the waiting request's CPU while it waits, and unpinned
when the request stops waiting (a late handler must not hold that CPU).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from typing import Callable

_SchedGetCPU = Callable[[], int]


def _sched_getcpu() -> _SchedGetCPU | None:
    if not sys.platform.startswith("linux") or not hasattr(os, "sched_setaffinity"):
        return None
    try:
        function = ctypes.CDLL(None).sched_getcpu
    except (OSError, AttributeError):
        return None
    function.restype, function.argtypes = ctypes.c_int, []
    getcpu: _SchedGetCPU = function
    return getcpu


_getcpu = _sched_getcpu()
_allowed: dict[int, set[int]] = {}  # pid -> the CPUs this process may use


def available() -> bool:
    """Whether threads can be pinned here (Linux, not a gevent-patched process, where every
    greenlet shares one OS thread)."""
    if _getcpu is None:
        return False
    monkey = sys.modules.get("gevent.monkey")
    return monkey is None or not monkey.is_module_patched("threading")


def pin(thread_id: int) -> bool:
    """Run the thread ``thread_id`` (a native id) on the calling thread's CPU only."""
    assert _getcpu is not None
    cpu = _getcpu()
    if cpu < 0:
        return False
    pid = os.getpid()
    if pid not in _allowed:
        _allowed[pid] = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(thread_id, {cpu})
    except OSError:  # the CPU went offline, or the thread ended
        return False
    return True


def unpin(thread_id: int) -> None:
    """Let the thread ``thread_id`` run on any CPU of the process again."""
    allowed = _allowed.get(os.getpid())
    if allowed:
        with contextlib.suppress(OSError):  # the thread ended
            os.sched_setaffinity(thread_id, allowed)
