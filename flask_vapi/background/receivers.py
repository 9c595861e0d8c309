"""Background receivers: their registry, the runner interface and the in-process thread runner.

A receiver registered with ``@vapi.on(..., background=True)`` runs off the request path:
the webhook is answered first.  :class:`ThreadRunner` (``VAPI_BACKGROUND = "thread"``, the
default) runs it on a bounded pool in the web process;
:class:`~flask_vapi.background.celery.CeleryRunner` (``"celery"``) hands it to a Celery
worker.  Either way the receiver runs in an app context of its own with
:data:`~flask_vapi.current_message` set, plain or ``async def``.
"""

from __future__ import annotations

import abc
import asyncio
import atexit
import contextvars
import functools
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Callable

from flask import Blueprint, Flask

from ..context import _message
from ..errors import ConfigurationError
from ..logs import logger, quoted, short, wants_traceback
from ..models.messages import Message
from ..runner import DRAIN_SECONDS, handler_name, is_async, sync_callable

__all__ = [
    "BackgroundReceiver",
    "BackgroundRunner",
    "OnError",
    "ThreadRunner",
    "call_receiver",
    "log_failure",
    "lookup",
    "receiver_id",
    "register",
]

#: ``on_error(app, message, exception, receiver function)``: told of each receiver failure.
OnError = Callable[[Flask, Message, BaseException, Callable[..., Any]], None]


def log_failure(
    app: Flask, message: Message, exc: BaseException, receiver: Callable[..., Any]
) -> None:
    """The default :data:`OnError`: one ERROR line (with the traceback when debugging)."""
    logger.error(
        "Vapi %s background receiver %s failed: %s: %s",
        quoted(message.type),
        handler_name(receiver),
        type(exc).__name__,
        short(exc),
        exc_info=exc if wants_traceback(app) else None,
    )


def report(
    on_error: OnError,
    app: Flask,
    message: Message,
    exc: BaseException,
    receiver: Callable[..., Any],
) -> None:
    """Call ``on_error``; its own failure is logged, never raised."""
    try:
        on_error(app, message, exc, receiver)
    except Exception as inner:
        logger.error(
            "The on_error callback of background receivers failed: %s: %s",
            type(inner).__name__,
            short(inner),
        )


# -- the registry -------------------------------------------------------------------


@dataclass(frozen=True)
class BackgroundReceiver:
    """A background receiver, with the identity a Celery worker finds it again by."""

    #: The name of the blueprint it was registered on.
    blueprint: str
    #: ``module:qualname[types]``: see :func:`receiver_id`.
    id: str
    #: The user's function, called with the message.
    func: Callable[[Message], Any]


_registry: weakref.WeakKeyDictionary[Blueprint, dict[str, BackgroundReceiver]] = (
    weakref.WeakKeyDictionary()
)
_registry_lock = threading.Lock()


def receiver_id(func: Callable[..., Any], message_types: Iterable[str]) -> str:
    """``module:qualname[type,...]``, the same in every process that imports the same code
    (``myapp.hooks:sync_crm[end-of-call-report]``); the types are sorted::

        >>> import json
        >>> receiver_id(json.dumps, ["status-update", "end-of-call-report"])
        'json:dumps[end-of-call-report,status-update]'
    """
    target: Any = func
    while isinstance(target, functools.partial):
        target = target.func
    module = getattr(target, "__module__", None) or type(target).__module__
    return f"{module}:{handler_name(func)}[{','.join(sorted(set(message_types)))}]"


def register(
    blueprint: Blueprint, func: Callable[[Message], Any], message_types: Iterable[str]
) -> BackgroundReceiver:
    """Record ``func`` as a background receiver of ``blueprint`` (at ``@vapi.on`` time).

    Registering the same function again returns the same record.  Two different functions
    with one identity (two lambdas, or partials of one function, for the same types) raise
    :class:`~flask_vapi.ConfigurationError`: a Celery worker could not tell them apart.
    """
    types = list(message_types)
    record = BackgroundReceiver(blueprint.name, receiver_id(func, types), func)
    with _registry_lock:
        known = _registry.setdefault(blueprint, {})
        found = known.get(record.id)
        if found is not None and found.func is not func:
            raise ConfigurationError(
                f"Two background receivers of blueprint {blueprint.name!r} have the identity "
                f"{record.id!r}: a Celery worker could not tell them apart. Give them "
                "distinct names (def, not lambda or partial)."
            )
        if found is None:
            known[record.id] = record
        return found or record


def lookup(app: Flask, blueprint: str, receiver: str) -> BackgroundReceiver | None:
    """The background receiver ``receiver`` (an id) of the blueprint named ``blueprint``
    registered on ``app``, or ``None``."""
    candidate: Any  # app.blueprints holds Flask 3's sansio Blueprint type
    for candidate in list(app.blueprints.values()):
        known = _registry.get(candidate) if candidate.name == blueprint else None
        if known is not None and receiver in known:
            return known[receiver]
    return None


# -- running one receiver ---------------------------------------------------------------


def call_receiver(app: Flask, message: Message, func: Callable[[Message], Any]) -> None:
    """Call ``func(message)`` in an app context of its own with ``current_message`` set;
    its exception propagates.

    An ``async def`` receiver runs in an event loop of its own in this thread
    (``asyncio.run``) when the thread has none, as in a pool or Celery worker thread:
    ``app.ensure_sync`` would start one more thread, which Python refuses while the
    interpreter exits (the queue is drained then).  Otherwise it goes through
    :func:`~flask_vapi.runner.sync_callable`, like every handler.
    """
    with app.app_context():
        token = _message.set(message)
        try:
            if is_async(func) and not _has_running_loop():
                asyncio.run(func(message))
            else:
                sync_callable(app, func)(message)
        finally:
            _message.reset(token)


def _has_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class BackgroundRunner(abc.ABC):
    """Runs background receivers off the request path."""

    @abc.abstractmethod
    def submit(
        self,
        app: Flask,
        message: Message,
        receiver: BackgroundReceiver,
        *,
        key: str,
        raw: dict[str, Any],
    ) -> None:
        """Run ``receiver`` with ``message`` later; never raises, never waits for it.

        ``key`` is a stable id of the message (the same for a redelivery of it), ``raw``
        the message object as received (JSON-able).
        """

    @abc.abstractmethod
    def shutdown(self, timeout: float) -> None:
        """Wait at most ``timeout`` seconds for work already submitted, then stop."""


# -- the thread runner ------------------------------------------------------------------

_Job = tuple[Flask, Message, BackgroundReceiver]


class ThreadRunner(BackgroundRunner):
    """A bounded in-process pool: at most ``max_workers`` threads, ``queue_size`` jobs waiting.

    Threads are made on demand and end after :attr:`idle_seconds` without work; a forked
    child (a gunicorn worker) starts with an empty pool of its own.  When ``queue_size``
    jobs are already waiting, the receiver runs inline in the submitting request, with a
    WARNING: the webhook is answered late rather than the work lost (back-pressure on an
    overloaded worker).  After :meth:`shutdown`, receivers also run inline.

    ``key`` and ``raw`` are not used: a redelivered message is stopped before it is
    dispatched (``VAPI_DEDUPLICATE``), not here.

    At interpreter exit the queue is drained for up to
    :data:`~flask_vapi.runner.DRAIN_SECONDS` seconds (what is still queued then is lost,
    with an ERROR line).  A hard kill (SIGKILL, a crash, a worker killed on timeout) loses
    what is queued and running: use ``VAPI_BACKGROUND = "celery"`` for work that must
    survive the web process.
    """

    #: Seconds an idle thread waits for work before it ends.
    idle_seconds: float = 30.0

    def __init__(
        self, max_workers: int = 4, queue_size: int = 1000, *, on_error: OnError | None = None
    ) -> None:
        for name, value in (("max_workers", max_workers), ("queue_size", queue_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        self.max_workers = max_workers
        self.queue_size = queue_size
        #: Told of each receiver's failure.
        self.on_error: OnError = on_error or log_failure
        self._closed = False
        self._reset()
        _runners.add(self)

    def _reset(self) -> None:
        """Fresh state: at creation, and in a forked child (the parent's threads are not there)."""
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # a job was queued, or shutdown
        self._idle_pool = threading.Condition(self._lock)  # no job queued or running
        self._jobs: deque[_Job] = deque()
        self._threads = 0
        self._idle = 0
        self._running = 0

    @property
    def threads(self) -> int:
        """How many threads the pool holds now."""
        return self._threads

    @property
    def pending(self) -> int:
        """How many jobs are queued or running now."""
        return len(self._jobs) + self._running

    def submit(
        self,
        app: Flask,
        message: Message,
        receiver: BackgroundReceiver,
        *,
        key: str,
        raw: dict[str, Any],
    ) -> None:
        """Queue ``receiver`` for a pool thread (inline when the queue is full or shut down)."""
        job = (app, message, receiver)
        with self._lock:
            if self._closed:
                inline = "the runner is shut down"
            elif len(self._jobs) >= self.queue_size:
                inline = f"{self.queue_size} jobs are already queued"
            else:
                inline = self._queue(job)
        if inline:
            logger.warning(
                "Ran Vapi %s background receiver %s inline: %s.",
                quoted(message.type),
                handler_name(receiver.func),
                inline,
            )
            self._run(job)

    def _queue(self, job: _Job) -> str:
        """Queue ``job`` and wake or start a thread for it (lock held); why not, or ``""``."""
        self._jobs.append(job)
        if len(self._jobs) <= self._idle or self._threads >= self.max_workers:
            self._work.notify()
            return ""
        self._threads += 1
        try:
            threading.Thread(target=self._loop, name="flask-vapi-background", daemon=True).start()
        except RuntimeError:  # at interpreter shutdown, or out of threads
            self._threads -= 1
            if not self._threads:
                self._jobs.pop()
                return "no thread could be started"
        return ""

    def _loop(self) -> None:
        with self._lock:
            while True:
                while not self._jobs:
                    if self._closed:
                        self._threads -= 1
                        return
                    self._idle += 1
                    woken = self._work.wait(self.idle_seconds)
                    self._idle -= 1
                    if not woken and not self._jobs:
                        self._threads -= 1
                        return
                job = self._jobs.popleft()
                self._running += 1
                self._lock.release()
                try:
                    # A fresh contextvars context per job: nothing leaks between jobs.
                    contextvars.Context().run(self._run, job)
                finally:
                    self._lock.acquire()
                    self._running -= 1
                    if not self._jobs and not self._running:
                        self._idle_pool.notify_all()

    def _run(self, job: _Job) -> None:
        app, message, receiver = job
        try:
            call_receiver(app, message, receiver.func)
        except BaseException as exc:  # a receiver's SystemExit must not end a pool thread
            report(self.on_error, app, message, exc, receiver.func)

    def drain(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds until no job is queued or running; ``True`` if so."""
        stop = time.monotonic() + timeout
        with self._lock:
            while self._jobs or self._running:
                left = stop - time.monotonic()
                if left <= 0:
                    return False
                self._idle_pool.wait(left)
        return True

    def shutdown(self, timeout: float) -> None:
        """Stop taking jobs (later ones run inline), wait up to ``timeout`` s for the queued
        ones, then let the threads end; what is left is logged as lost."""
        with self._lock:
            self._closed = True
            self._work.notify_all()
        if not self.drain(timeout):
            with self._lock:
                queued, running = len(self._jobs), self._running
            logger.error(
                "Stopped waiting for background receivers after %g s: %d queued and %d "
                "running are lost.",
                timeout,
                queued,
                running,
            )


_runners: weakref.WeakSet[ThreadRunner] = weakref.WeakSet()


def _after_fork() -> None:
    for runner in list(_runners):
        runner._reset()


os.register_at_fork(after_in_child=_after_fork)


@atexit.register
def _drain_at_exit() -> None:
    stop = time.monotonic() + DRAIN_SECONDS
    for runner in list(_runners):
        if not runner._closed:
            runner.shutdown(max(0.0, stop - time.monotonic()))
