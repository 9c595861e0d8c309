"""Celery background receivers: each message is handed to a task of the app's own Celery app.

Set Celery up as in Flask's Celery pattern (``celery_init_app``), so that the worker runs
your Flask app and tasks run in its app context; then set ``VAPI_BACKGROUND = "celery"``::

    # yourapp/__init__.py
    from celery import Celery, Task
    from flask import Flask

    def celery_init_app(app: Flask) -> Celery:
        class FlaskTask(Task):
            def __call__(self, *args, **kwargs):
                with app.app_context():
                    return self.run(*args, **kwargs)

        celery_app = Celery(app.name, task_cls=FlaskTask)
        celery_app.config_from_object(app.config["CELERY"])
        celery_app.set_default()
        app.extensions["celery"] = celery_app
        return celery_app

    def create_app() -> Flask:
        app = Flask(__name__)
        app.config.from_mapping(
            CELERY={"broker_url": "redis://localhost:6379/1", "task_ignore_result": True},
            VAPI_BACKGROUND="celery",
            VAPI_STORE_URL="redis://localhost:6379/0",
        )
        celery_init_app(app)
        app.register_blueprint(vapi)  # the VapiBlueprint with the background receivers
        return app

    # yourapp/celery_app.py: what the worker imports
    from yourapp import create_app

    flask_app = create_app()
    celery_app = flask_app.extensions["celery"]

and run the worker with ``celery -A yourapp.celery_app worker``.

The web process sends the task ``flask_vapi.run_receiver`` (route it with Celery's
``task_routes``) with JSON arguments only: the blueprint's name, the receiver's
identity (:func:`~flask_vapi.background.receivers.receiver_id`), the message's key and
the message as received.  The worker finds the receiver in the app it imported, rebuilds
the typed message and runs the receiver.  Each (message, receiver) pair runs to one
successful end: the worker claims it (:func:`claim_key`) in the store
(``VAPI_STORE_URL``, which every worker must share: Redis across machines) before it runs
the receiver, and marks it done after; a task that finds the pair done does nothing, one
that finds it running elsewhere retries later, then leaves it to that worker.  A
failure is retried by Celery, after exponential backoff, up to ``max_retries`` times.

The task is sent before the webhook is answered, so once Vapi has its answer the work is
in the broker: a web worker killed afterwards loses nothing.  The task is acknowledged
late: a Celery worker killed mid-run leaves it to be delivered again after the broker's
visibility timeout (Redis: one hour), when its claim (``claim_ttl``, ten minutes) has
lapsed.  Keep ``claim_ttl`` longer than your longest receiver (else a redelivery may run
it twice) and shorter than the visibility timeout (else the redelivery finds the dead
worker's claim and gives up).
"""

from __future__ import annotations

import functools
from typing import Any

from celery import current_app as current_celery_app  # type: ignore[import-untyped]
from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval  # type: ignore[import-untyped]
from flask import Flask, current_app, has_app_context

from ..catalogue import MESSAGE_KINDS
from ..logs import logger, quoted, short
from ..models.messages import Message
from ..runner import handler_name
from ..store import Store, StoreError, redact_url
from .receivers import (
    BackgroundReceiver,
    BackgroundRunner,
    OnError,
    ThreadRunner,
    call_receiver,
    log_failure,
    lookup,
    report,
)

__all__ = ["DONE", "RUNNING", "TASK_NAME", "CeleryRunner", "claim_key", "load_message"]

#: The name of the Celery task that runs a background receiver.
TASK_NAME = "flask_vapi.run_receiver"
#: Claim values: a worker is running the receiver / it ran to a successful end.
RUNNING, DONE = b"running", b"done"
#: The longest wait between two tries, in seconds (Celery's ``retry_backoff_max``).
MAX_BACKOFF = 600
_EXTENSION = "flask_vapi.celery_runners"


def claim_key(key: str, receiver: BackgroundReceiver) -> str:
    """The store key that keeps one (message, receiver) pair to one successful run:
    ``bg:<blueprint>:<message key>:<receiver id>`` (one function on two endpoints is two
    receivers)."""
    return f"bg:{receiver.blueprint}:{key}:{receiver.id}"


def load_message(raw: dict[str, Any]) -> Message:
    """The typed message of a message dict, as dispatch loads it (unknown types too)."""
    kind = MESSAGE_KINDS.get(str(raw.get("type")))
    return (kind.model if kind is not None else Message).load(raw)


class CeleryRunner(BackgroundRunner):
    """Hands each background receiver to a Celery task of the user's Celery app.

    The Celery app is ``app.extensions["celery"]`` (Flask's pattern) or else Celery's
    current app.  ``store`` holds the claims; ``max_retries`` bounds Celery's retries
    (``backoff`` is the backoff factor, in seconds: a try waits up to ``backoff * 2**n``);
    ``done_ttl`` is how long a finished pair is remembered (``VAPI_DEDUPLICATE_TTL``),
    ``claim_ttl`` how long a running one is.  ``on_error`` is told of each failed try.

    When the task cannot be sent (the broker is down), the receiver runs in this process
    on a :class:`~flask_vapi.background.receivers.ThreadRunner`, under the same claim
    (without it, if the store is down too), with an ERROR line: late, not lost.
    """

    def __init__(
        self,
        store: Store,
        *,
        max_retries: int = 3,
        done_ttl: float = 86400.0,
        claim_ttl: float = 600.0,
        backoff: int = 1,
        on_error: OnError | None = None,
    ) -> None:
        for name, value in (("max_retries", max_retries), ("backoff", backoff)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, not {value!r}")
        for name, ttl in (("done_ttl", done_ttl), ("claim_ttl", claim_ttl)):
            if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {ttl!r}")
        self.store = store
        self.max_retries = max_retries
        self.done_ttl = float(done_ttl)
        self.claim_ttl = float(claim_ttl)
        self.backoff = backoff
        #: Told of each failed try of a receiver.
        self.on_error: OnError = on_error or log_failure
        self._fallback: ThreadRunner | None = None

    # -- wiring -------------------------------------------------------------------

    def init_app(self, app: Flask, blueprint: str) -> None:
        """Make this the runner of ``blueprint``'s tasks on ``app`` (in the worker too)."""
        app.extensions.setdefault(_EXTENSION, {})[blueprint] = self

    @staticmethod
    def of(app: Flask, blueprint: str) -> CeleryRunner:
        """The runner :meth:`init_app` gave ``blueprint`` on ``app``; ``LookupError`` if none."""
        runner = app.extensions.get(_EXTENSION, {}).get(blueprint)
        if not isinstance(runner, CeleryRunner):
            raise LookupError(
                f"The app {app.name!r} has no Celery runner for the blueprint {blueprint!r}: "
                "does the worker's app have VAPI_BACKGROUND = 'celery' and that blueprint?"
            )
        return runner

    # -- the web process ------------------------------------------------------------

    def submit(
        self,
        app: Flask,
        message: Message,
        receiver: BackgroundReceiver,
        *,
        key: str,
        raw: dict[str, Any],
    ) -> None:
        """Send the task (in this process: only when the broker cannot be reached)."""
        celery_app = app.extensions.get("celery") or current_celery_app
        try:
            celery_app.tasks[TASK_NAME].apply_async((receiver.blueprint, receiver.id, key, raw))
        except Exception as exc:
            if celery_app.conf.task_always_eager:  # it ran here: this is its own failure
                logger.error(
                    "Vapi %s background receiver %s failed in Celery's eager mode: %s: %s",
                    quoted(message.type),
                    handler_name(receiver.func),
                    type(exc).__name__,
                    short(exc),
                )
                return
            logger.error(
                "Could not hand Vapi %s background receiver %s to Celery (%s: %s); "
                "running it in this process.",
                quoted(message.type),
                handler_name(receiver.func),
                type(exc).__name__,
                redact_url(short(exc)),
            )
            here = functools.partial(self._run_here, app, receiver, key)
            fallback = BackgroundReceiver(receiver.blueprint, receiver.id, here)
            self._local().submit(app, message, fallback, key=key, raw=raw)

    def shutdown(self, timeout: float) -> None:
        """Wait for receivers run in this process; the Celery app is the user's to close."""
        if self._fallback is not None:
            self._fallback.shutdown(timeout)

    def _local(self) -> ThreadRunner:
        if self._fallback is None:
            self._fallback = ThreadRunner(on_error=self.on_error)
        return self._fallback

    def _run_here(
        self, app: Flask, receiver: BackgroundReceiver, key: str, message: Message
    ) -> None:
        claim = claim_key(key, receiver)
        try:
            claimed = self.store.add(claim, RUNNING, self.claim_ttl)
        except StoreError as exc:
            logger.warning(
                "The store failed (%s); running %s without its exactly-once claim.",
                short(exc),
                handler_name(receiver.func),
            )
            claimed = None
        if claimed is False:
            logger.info("%s already ran or is running; not run again.", quoted(claim))
            return
        try:
            self._execute(app, message, receiver, claim if claimed else None)
        except Exception as exc:
            report(self.on_error, app, message, exc, receiver.func)

    # -- the worker ---------------------------------------------------------------

    def run(
        self,
        task: Any,
        app: Flask,
        blueprint: str,
        receiver_id: str,
        key: str,
        raw: dict[str, Any],
    ) -> None:
        """The body of the task: claim, run the receiver, mark it done; retry on failure."""
        try:
            receiver = lookup(app, blueprint, receiver_id)
            if receiver is None:
                raise LookupError(
                    f"No background receiver {receiver_id!r} is registered on the blueprint "
                    f"{blueprint!r} of the app {app.name!r} in this worker."
                )
            message = load_message(raw)
            claim = claim_key(key, receiver)
            claimed = self.store.add(claim, RUNNING, self.claim_ttl)
            state = None if claimed else self.store.get(claim)
        except Exception as exc:
            logger.warning(
                "Vapi background task for %s could not start (try %d of %d): %s: %s",
                quoted(receiver_id),
                task.request.retries + 1,
                self.max_retries + 1,
                type(exc).__name__,
                short(exc),
            )
            raise self._retry(task, exc) from None
        if not claimed:
            if state == DONE:
                logger.info("%s already ran; not run again.", quoted(claim))
                return
            if task.request.retries >= self.max_retries:
                logger.info("%s is running in another worker; left to it.", quoted(claim))
                return
            raise self._retry(task, None)
        try:
            self._execute(app, message, receiver, claim)
        except Exception as exc:
            report(self.on_error, app, message, exc, receiver.func)
            raise self._retry(task, exc) from None

    def _retry(self, task: Any, exc: Exception | None) -> Exception:
        """Celery's retry (it raises): after backoff, within ``max_retries`` (else ``exc``)."""
        countdown = get_exponential_backoff_interval(
            factor=self.backoff,
            retries=task.request.retries,
            maximum=MAX_BACKOFF,
            full_jitter=True,
        )
        retry: Exception = task.retry(exc=exc, countdown=countdown, max_retries=self.max_retries)
        return retry

    # -- both -----------------------------------------------------------------------

    def _execute(
        self, app: Flask, message: Message, receiver: BackgroundReceiver, claim: str | None
    ) -> None:
        """Run the receiver under ``claim``: done after success, released after failure."""
        try:
            call_receiver(app, message, receiver.func)
        except Exception:
            if claim is not None:
                try:
                    self.store.delete(claim)
                except StoreError as exc:
                    logger.warning(
                        "Could not release %s (%s); it expires in %g s.",
                        quoted(claim),
                        short(exc),
                        self.claim_ttl,
                    )
            raise
        if claim is not None:
            try:
                self.store.set(claim, DONE, self.done_ttl)
            except StoreError as exc:
                logger.error(
                    "Could not mark %s done (%s): a redelivery after %g s would run it again.",
                    quoted(claim),
                    short(exc),
                    self.claim_ttl,
                )


def _flask_app() -> Flask:
    if not has_app_context():
        raise RuntimeError(
            f"The Celery task {TASK_NAME} runs in a Flask app context: create the Celery app "
            "with Flask's celery_init_app pattern (a Task class whose __call__ pushes "
            "app.app_context())."
        )
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _run_receiver(
    task: Any, blueprint: str, receiver_id: str, key: str, raw: dict[str, Any]
) -> None:
    """Run one background receiver in a Celery worker (sent by :meth:`CeleryRunner.submit`)."""
    try:
        app = _flask_app()
        runner = CeleryRunner.of(app, blueprint)
    except (RuntimeError, LookupError) as exc:
        logger.error("Vapi background task for %s: %s", quoted(receiver_id), exc)
        raise task.retry(exc=exc, countdown=2**task.request.retries, max_retries=3) from None
    runner.run(task, app, blueprint, receiver_id, key, raw)


#: The Celery task: bound (its first argument is the task, for retries), acknowledged late,
#: its result not stored.
run_receiver = shared_task(bind=True, name=TASK_NAME, ignore_result=True, acks_late=True)(
    _run_receiver
)
