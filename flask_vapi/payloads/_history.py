"""Conversation history of a payload: generated clinic turns or given items, Vapi and OpenAI."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Union

from ._common import _BOT_LINE, _GREETING, _SYSTEM_PROMPT, _USER_LINE, _booking_args, _fake_id

# A realistic clinic conversation. History item 0 is the system prompt, item 1 the greeting;
# the loop then repeats for as long as needed (user turns alternate with bot turns).
_LOOP: tuple[tuple[str, str, Any], ...] = (
    ("user", _USER_LINE, None),
    ("bot", _BOT_LINE, None),
    ("user", "Maria Gonzalez, March fourteenth, nineteen eighty-five.", None),
    ("bot", "Thank you, Maria. What day would work best for you?", None),
    ("user", "Next Tuesday morning, if possible.", None),
    ("tool_calls", "checkAvailability", {"doctor": "Dr. Patel", "date": "2026-09-08"}),
    ("tool_call_result", "checkAvailability", "Available slots: 09:00, 10:30, 11:15"),
    ("bot", "Dr. Patel is free at nine, ten thirty or eleven fifteen on Tuesday. Which one?", None),
    ("user", "Ten thirty works for me.", None),
    ("tool_calls", "bookAppointment", _booking_args()),
    ("tool_call_result", "bookAppointment", "Booked. Confirmation number RFC-48213."),
    ("bot", "You're all set for Tuesday at ten thirty with Dr. Patel. Anything else?", None),
    ("user", "Do I need to bring anything?", None),
    ("bot", "Please bring your insurance card and a photo ID, and arrive ten minutes early.", None),
)
_GAP_MS = {"bot": 800, "user": 900, "tool_calls": 450, "tool_call_result": 650}
_OPENAI_ROLE = {"system": "system", "bot": "assistant", "user": "user"}
_TRANSCRIPT_LABEL = {"bot": "AI", "user": "User"}

History = Union[int, Sequence[Mapping[str, Any]]]
"""``messages=``: how many history items to generate, or the Vapi history items themselves."""


class _History(NamedTuple):
    messages: list[dict[str, Any]]
    openai: list[dict[str, Any]]
    transcript: str
    start_ms: int


def _speech_ms(text: str) -> int:
    return 250 + 330 * len(text.split())


def _generate(count: int, end_ms: int) -> tuple[list[dict[str, Any]], int]:
    """Generate ``count`` Vapi history items ending at ``end_ms``; return them and the start."""
    items: list[dict[str, Any]] = []
    t = 0
    calls = 0
    last_id = ""
    for i in range(count):
        if i == 0:
            system = {"role": "system", "message": _SYSTEM_PROMPT, "time": 0, "secondsFromStart": 0}
            items.append(system)
            continue
        role, text, payload = ("bot", _GREETING, None) if i == 1 else _LOOP[(i - 2) % len(_LOOP)]
        t += 1500 if i == 1 else _GAP_MS[role]
        item: dict[str, Any] = {"role": role}
        if role == "tool_calls":
            last_id = _fake_id("history", calls)
            calls += 1
            function = {"name": text, "arguments": json.dumps(payload)}
            item.update(toolCalls=[{"id": last_id, "type": "function", "function": function}])
            item.update(message="", time=t)
        elif role == "tool_call_result":
            item.update(toolCallId=last_id, name=text, result=payload, time=t)
        else:
            duration = _speech_ms(text)
            item.update(message=text, time=t, endTime=t + duration)
            if role == "bot":
                item["source"] = ""
            item["duration"] = duration / 1000
            t += duration
        item["secondsFromStart"] = item["time"] / 1000
        items.append(item)
    start = end_ms - t
    for item in items:
        item["time"] += start
        if "endTime" in item:
            item["endTime"] += start
    return items, start


def _to_openai(item: Mapping[str, Any]) -> dict[str, Any] | None:
    role = item.get("role")
    if role in _OPENAI_ROLE:
        return {"role": _OPENAI_ROLE[role], "content": item.get("message", "")}
    if role == "tool_calls":
        calls = copy.deepcopy(item.get("toolCalls", []))
        return {"role": "assistant", "content": "", "tool_calls": calls}
    if role == "tool_call_result":
        return {
            "role": "tool",
            "tool_call_id": item.get("toolCallId"),
            "content": item.get("result"),
        }
    return None


def _history(source: History, end_ms: int) -> _History:
    """History for ``messages=``: a count to generate, or explicit Vapi history items."""
    if isinstance(source, int):
        if source < 0:
            raise ValueError("messages must be >= 0")
        items, start = _generate(source, end_ms)
    else:
        items = [copy.deepcopy(dict(item)) for item in source]
        start = int(items[0].get("time", end_ms - 42_000)) if items else end_ms - 42_000
    openai = [converted for item in items if (converted := _to_openai(item)) is not None]
    lines = [
        f"{_TRANSCRIPT_LABEL[item['role']]}: {item.get('message', '')}\n"
        for item in items
        if item.get("role") in _TRANSCRIPT_LABEL
    ]
    return _History(items, openai, "".join(lines), start)
