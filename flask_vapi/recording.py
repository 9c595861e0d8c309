"""``record_signals()``: the flask_vapi signals an app sent during a block, in order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, NamedTuple, Optional, Union

from blinker import NamedSignal
from flask import Flask

from . import signals
from .models.messages import Message

#: Every signal of :mod:`flask_vapi.signals` by name: ``"tool-calls"``, ``"handler-error"``...
ALL_SIGNALS: dict[str, NamedSignal] = {
    value.name: value for value in vars(signals).values() if isinstance(value, NamedSignal)
}


class SignalRecord(NamedTuple):
    """One signal sent: its name, the message (``None`` for a rejected request) and the rest."""

    #: The signal's name, e.g. ``"status-update"``, ``"message-received"``, ``"handler-error"``.
    name: str
    #: The typed message, or ``None`` (``request-rejected``).
    message: Optional[Message]
    #: The other keyword arguments: ``blueprint`` and, per signal, ``status``, ``exception``...
    extra: dict[str, Any]


def _resolve(wanted: Union[NamedSignal, str]) -> NamedSignal:
    if isinstance(wanted, NamedSignal):
        return wanted
    try:
        return ALL_SIGNALS[wanted]
    except KeyError:
        raise ValueError(
            f"flask_vapi has no signal named {wanted!r}; known: {', '.join(sorted(ALL_SIGNALS))}."
        ) from None


@contextmanager
def record_signals(app: Flask, *only: Union[NamedSignal, str]) -> Iterator[list[SignalRecord]]:
    """Record the flask_vapi signals ``app`` sends inside the block.

    ::

        with record_signals(app) as sent:
            client.send_message(make_status_update())
        assert [record.name for record in sent] == ["message-received", "status-update"]

    ``only`` restricts the recording to some signals (objects or names).  Records are
    appended as the signals are sent, so the list can be inspected inside the block.
    ``app`` may also be ``current_app``.
    """
    chosen = [_resolve(wanted) for wanted in only] if only else list(ALL_SIGNALS.values())
    # Signals are sent with the app object itself as sender: unwrap ``current_app``.
    sender = getattr(app, "_get_current_object", lambda: app)()
    sent: list[SignalRecord] = []
    with ExitStack() as stack:
        for signal in dict.fromkeys(chosen):  # each signal once, in the given order

            def receiver(sender: Any, _name: str = signal.name, **kwargs: Any) -> None:
                message = kwargs.pop("message", None)
                sent.append(SignalRecord(_name, message, kwargs))

            stack.enter_context(signal.connected_to(receiver, sender=sender))
        yield sent
