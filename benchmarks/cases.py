"""The benchmark payloads (from ``flask_vapi.payloads``), encoded once as request bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Optional

from apps import ASSISTANT_ID, FIVE_CALLS

from flask_vapi import payloads as p

#: History sizes of the growing messages.
SIZES = (10, 100, 1000)
#: Types whose cost grows with the call: ``(label, factory)``.
GROWING: tuple[tuple[str, Callable[..., dict[str, Any]]], ...] = (
    ("end-of-call-report", p.make_end_of_call_report),
    ("conversation-update", p.make_conversation_update),
)


@dataclass(frozen=True)
class Case:
    """One payload: its label, body, history size and the vapi-side checks."""

    name: str
    body: bytes
    #: History messages, for the growing types.
    messages: Optional[int] = None
    #: The target ratio to the floor (in-process), ``None`` when the brief sets none.
    target: Optional[float] = None
    #: Bytes the vapi answer must contain, proving the handler ran.
    expect: bytes = b"{}"

    @property
    def kind(self) -> str:
        """The message type without the size suffix."""
        return self.name.split(" ")[0]


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(p.wrap(message), separators=(",", ":")).encode()


def build_cases() -> list[Case]:
    """Every payload of the benchmark, small messages first."""
    cases = [
        Case("status-update", _encode(p.make_status_update()), target=1.25),
        Case("speech-update", _encode(p.make_speech_update())),
        Case(
            "tool-calls x1",
            _encode(p.make_tool_calls(FIVE_CALLS[0])),
            target=1.25,
            expect=b"RFC-48213",
        ),
        Case("tool-calls x5", _encode(p.make_tool_calls(*FIVE_CALLS)), expect=b"Transferring."),
        Case(
            "assistant-request",
            _encode(p.make_assistant_request()),
            target=1.25,
            expect=ASSISTANT_ID.encode(),
        ),
        Case("transcript", _encode(p.make_transcript())),
    ]
    for label, factory in GROWING:
        for size in SIZES:
            cases.append(
                Case(
                    f"{label} {size}",
                    _encode(factory(messages=size)),
                    messages=size,
                    target=1.0 if size >= 100 else None,
                )
            )
    return cases


def select(cases: list[Case], names: Optional[str]) -> list[Case]:
    """The cases whose name contains one of the comma-separated ``names`` (all when empty)."""
    if not names:
        return cases
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    chosen = [case for case in cases if any(name in case.name for name in wanted)]
    if not chosen:
        raise SystemExit(f"--only {names!r} matches no payload; known: {[c.name for c in cases]}")
    return chosen
