"""Where handlers run: plain or ``async def``, inline or on the bounded pool under a deadline."""

from __future__ import annotations

import atexit
import contextvars
import functools
import importlib.util
import inspect
import os
import sys
import threading
import time
from contextvars import ContextVar
from typing import Any, Callable

from flask import Flask

from . import affinity
from .errors import ConfigurationError


def is_async(func: Callable[..., Any]) -> bool:
    """Whether calling ``func`` returns a coroutine (also through partials and ``__call__``)."""
    while isinstance(func, functools.partial):
        func = func.func
    if inspect.iscoroutinefunction(func):
        return True
    call = vars(type(func)).get("__call__") if not inspect.isroutine(func) else None
    return inspect.iscoroutinefunction(call)


def check_registrable(func: Any, what: str) -> None:
    """Refuse at registration what would fail on every call: not callable, or async without
    the ``async`` extra (Flask runs coroutines through asgiref)."""
    if not callable(func):
        raise ConfigurationError(f"{what} must be callable, not {type(func).__name__}.")
    if is_async(func) and importlib.util.find_spec("asgiref") is None:
        raise ConfigurationError(
            f"{what} ({handler_name(func)}) is async: running coroutines needs asgiref. "
            "Install it with: pip install 'flask-vapi[async]'"
        )


def sync_callable(app: Flask, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func``, or for a coroutine function a synchronous wrapper (``app.ensure_sync``).

    Reads the code flags of a plain function or method directly: ``app.ensure_sync``'s
    ``inspect`` work costs more than the rest of a small message's dispatch.
    """
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    if code is not None:
        return _coroutine(app, func) if code.co_flags & inspect.CO_COROUTINE else func
    if not is_async(func):
        return func
    if isinstance(func, functools.partial):
        return _coroutine(app, func)
    # A callable object with ``async def __call__``: ensure_sync needs the bound method.
    call: Callable[..., Any] = getattr(func, "__call__")  # noqa: B004, B009
    return _coroutine(app, call)


def _coroutine(app: Flask, func: Callable[..., Any]) -> Callable[..., Any]:
    """A coroutine function run to completion (Flask's ``ensure_sync``, through asgiref).

    In a gevent-patched process every greenlet shares one OS thread, and so one asyncio
    loop: a second coroutine would be refused while one awaits.  There each runs in a
    native thread of gevent's pool, with the caller's context variables.
    """
    run = app.ensure_sync(func)
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("threading"):
        return run
    import gevent  # type: ignore[import-untyped]

    def in_native_thread(*args: Any, **kwargs: Any) -> Any:
        context = contextvars.copy_context()
        return gevent.get_hub().threadpool.apply(context.run, (run, *args), kwargs)

    return in_native_thread


def handler_name(handler: Callable[..., Any]) -> str:
    """A readable name of a handler for log lines (functions, partials, callable objects)."""
    if isinstance(handler, functools.partial):
        return f"partial({handler_name(handler.func)})"
    name = getattr(handler, "__qualname__", None)
    if isinstance(name, str):
        return name
    return type(handler).__qualname__ + " object"


#: Seconds a request yields its CPU to a pinned handler before it sleeps: most handlers
#: answer within this, and a sleeping request costs a wake-up of its own.
SPIN_SECONDS = 0.0002


class Job:
    """One handler call on the pool, waited for until a deadline.

    Whoever comes second decides what happens to the outcome: the waiting request
    (:meth:`wait` returns it) or, when the request gave up first, ``on_late``, which runs
    in the pool thread, in the handler's contexts.
    """

    __slots__ = (
        "_done",
        "_lock",
        "abandoned",
        "ended",
        "error",
        "finished",
        "func",
        "on_abandon",
        "on_late",
        "value",
    )

    def __init__(
        self,
        func: Callable[[], Any],
        on_late: Callable[[Any, Exception | None], None] | None = None,
    ) -> None:
        self.func = func
        self.on_late = on_late
        self.value: Any = None
        self.error: Exception | None = None
        self.finished = False
        #: ``time.monotonic()`` when the handler returned or raised.
        self.ended: float | None = None
        self.abandoned = False
        #: Called when :meth:`wait` gives up (the pool unpins the handler's thread).
        self.on_abandon: Callable[[], None] | None = None
        # Plain locks, looked up now (gevent may have patched threading): the cheapest
        # way for one thread to wake another.
        self._lock = threading.Lock()
        self._done = threading.Lock()
        self._done.acquire()

    def run(self) -> None:
        """Call the handler and hand its outcome to the waiter, or to ``on_late``."""
        value, error = None, None
        try:
            value = self.func()
        except Exception as exc:
            error = exc
        ended = time.monotonic()
        with self._lock:
            self.value, self.error, self.finished, self.ended = value, error, True, ended
            late = self.abandoned
        self._done.release()
        if late and self.on_late is not None:
            self.on_late(value, error)

    def wait(self, deadline: float) -> bool:
        """Whether the handler finished by ``deadline`` (``time.monotonic()``); if not, the
        job is abandoned to ``on_late``."""
        if self.on_abandon is not None:  # pinned to this CPU: hand it over, briefly
            spin_until = min(deadline, time.monotonic() + SPIN_SECONDS)
            while time.monotonic() < spin_until:
                if self._done.acquire(blocking=False):
                    return True
                os.sched_yield()  # the handler's thread runs here, at once
        if not self._done.acquire(timeout=max(0.0, deadline - time.monotonic())):
            with self._lock:
                if not self.finished:
                    self.abandoned = True
            if self.abandoned:
                if self.on_abandon is not None:
                    self.on_abandon()
                return False
        return True

    def result(self) -> Any:
        """The handler's return value, or its exception raised (after :meth:`wait`)."""
        if self.error is not None:
            raise self.error
        return self.value


class Pool:
    """A bounded pool of handler threads (greenlets in a gevent-patched process).

    :meth:`start` never queues: with every thread busy it returns ``False`` at once, so
    a request never waits for a thread past its budget.  Threads are made on demand, at
    most ``max_workers``, and kept; a forked child (gunicorn workers) makes its own.  At
    exit the interpreter waits up to :data:`DRAIN_SECONDS` for running handlers.
    """

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._pid = os.getpid()
        self._idle: list[_Worker] = []
        self._threads = 0
        self._lock = threading.Lock()

    @property
    def threads(self) -> int:
        """How many threads this process's pool holds."""
        return self._threads if self._pid == os.getpid() else 0

    def start(
        self, app: Flask, job: Job, *variables: tuple[ContextVar[Any], Any], pin: bool = False
    ) -> bool:
        """Run ``job`` on a free thread, with the current context variables (the request,
        the message, ...) and ``variables`` set, in an app context of its own (``g`` starts
        empty; its teardown runs when the handler ends); ``False`` when every thread is busy.

        ``pin``: the caller will wait for this one job: its thread runs on the caller's CPU
        until :meth:`Job.wait` returns or gives up (:mod:`flask_vapi.affinity`).
        """
        if self._pid != os.getpid():  # forked: the parent's threads are not here
            self._pid, self._idle, self._threads = os.getpid(), [], 0
        try:
            worker = self._idle.pop()
        except IndexError:
            with self._lock:
                if self._threads >= self.max_workers:
                    return False
                self._threads += 1
            worker = _Worker(self)
        # A copy of the request's contextvars (O(1)): the request context, the message,
        # the call state; the job's own app context is pushed on top of them.
        worker.place(job, pin)
        worker.give(contextvars.copy_context(), app.app_context(), job, variables)
        return True


#: Seconds the interpreter waits at exit for handlers still running on a pool.
DRAIN_SECONDS = 10.0
_running: set[Job] = set()


class _Worker:
    """One pool thread: sleeps on its own lock until :meth:`give` hands it a job."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.task: (
            tuple[contextvars.Context, Any, Job, tuple[tuple[ContextVar[Any], Any], ...]] | None
        ) = None
        self.wake = threading.Lock()
        self.wake.acquire()
        self.pinned = False
        self.thread = threading.Thread(target=self._loop, name="flask-vapi-handler", daemon=True)
        self.thread.start()
        #: The OS thread's id (set by ``start``; a greenlet's under gevent: never pinned).
        self.native_id: int | None = self.thread.native_id

    def place(self, job: Job, pin: bool) -> None:
        """Pin this thread to the caller's CPU for ``job``, or unpin it (see ``affinity``)."""
        if pin and self.native_id is not None and affinity.available():
            self.pinned = affinity.pin(self.native_id)
            if self.pinned:
                job.on_abandon = self.unpin
        elif self.pinned:
            self.unpin()

    def unpin(self) -> None:
        if self.native_id is not None:
            affinity.unpin(self.native_id)
        self.pinned = False

    def give(
        self,
        context: contextvars.Context,
        scope: Any,
        job: Job,
        variables: tuple[tuple[ContextVar[Any], Any], ...],
    ) -> None:
        self.task = (context, scope, job, variables)
        _running.add(job)
        self.wake.release()

    def _loop(self) -> None:
        while True:
            self.wake.acquire()
            assert self.task is not None
            context, scope, job, variables = self.task
            self.task = None
            # Each job in its own copy: nothing leaks from one job to the next.
            context.run(_run, scope, job, variables)
            _running.discard(job)
            self.pool._idle.append(self)


def _run(scope: Any, job: Job, variables: tuple[tuple[ContextVar[Any], Any], ...]) -> None:
    for variable, value in variables:
        variable.set(value)
    with scope:
        job.run()


@atexit.register
def _drain() -> None:
    stop = time.monotonic() + DRAIN_SECONDS
    while _running and time.monotonic() < stop:
        time.sleep(0.05)
