"""Factories of in-call speech messages: transcripts, model output, voice and custom providers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._common import (
    _BOT_LINE,
    _GREETING,
    _USER_LINE,
    ASSISTANT_ID,
    ASSISTANT_NAME,
    AUTO,
    TURN_ID,
    _assistant,
    _call_event,
    _now_ms,
    _server,
)
from ._history import History, _history


def _history_event(
    type_: str, messages: History, timestamp_as: str, overrides: Mapping[str, Any], **extra: Any
) -> dict[str, Any]:
    """A message with a conversation history; ``extra`` edits the assistant."""
    now = _now_ms()
    history = _history(messages, now - 150)
    fields = {"messages": history.messages, "messagesOpenAIFormatted": history.openai}
    context: dict[str, Any] = {
        "now_ms": now,
        "start_ms": history.start_ms,
        "assistant": _assistant(**extra),
    }
    return _call_event(type_, timestamp_as, overrides, fields, **context)


def make_knowledge_base_request(
    *, messages: History = 5, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``knowledge-base-request`` (custom knowledge base); history ends on the user's turn."""
    model = _assistant()["model"]
    model["knowledgeBase"] = {"provider": "custom-knowledge-base", "server": _server("/kb")}
    return _history_event("knowledge-base-request", messages, timestamp_as, overrides, model=model)


def make_call_endpointing_request(
    *, messages: History = 5, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``call.endpointing.request`` (custom endpointing model); history ends on the user."""
    plan = {"provider": "custom-endpointing-model", "server": _server("/endpointing")}
    speaking = {"smartEndpointingPlan": plan}
    return _history_event(
        "call.endpointing.request", messages, timestamp_as, overrides, startSpeakingPlan=speaking
    )


def make_model_output(
    *,
    output: Any = "Of course. ",
    output_as: str = "object",
    turn_id: str | None = TURN_ID,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``model-output``: one streamed model token (``output``) of turn ``turn_id``.

    The current spec types ``output`` as an object, so a string token is sent as
    ``{"role": "assistant", "content": token}``; ``output_as="string"`` sends the bare
    string, as older payloads did.  A non-string ``output`` (a tool-call chunk) is sent as is.
    """
    if output_as not in ("object", "string"):
        raise ValueError(f"output_as must be 'object' or 'string', not {output_as!r}")
    if isinstance(output, str) and output_as == "object":
        output = {"role": "assistant", "content": output}
    fields = {"output": output, "turnId": turn_id}
    return _call_event("model-output", timestamp_as, overrides, fields)


def make_speech_update(
    *,
    status: str | None = "started",
    role: str | None = "assistant",
    turn: int | None = 1,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``speech-update``: ``role`` started or stopped speaking in ``turn``."""
    fields = {"status": status, "role": role, "turn": turn}
    return _call_event("speech-update", timestamp_as, overrides, fields)


def make_transcript(
    *,
    transcript: Any = AUTO,
    role: str | None = "user",
    transcript_type: str | None = "final",
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``transcript`` of ``role``; pass ``type=TRANSCRIPT_FINAL_TYPE`` for the bracketed form."""
    if transcript is AUTO:
        words = (_BOT_LINE if role == "assistant" else _USER_LINE).split()
        transcript = " ".join(words[: len(words) // 2] if transcript_type == "partial" else words)
    fields = {"role": role, "transcriptType": transcript_type, "transcript": transcript}
    if role == "assistant":
        fields.update(assistantId=ASSISTANT_ID, assistantName=ASSISTANT_NAME)
    return _call_event("transcript", timestamp_as, overrides, fields)


def make_user_interrupted(
    *, turn_id: str | None = TURN_ID, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``user-interrupted``: the caller talked over turn ``turn_id``."""
    return _call_event("user-interrupted", timestamp_as, overrides, {"turnId": turn_id})


def make_language_change_detected(
    *, language: str | None = "es", timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``language-change-detected``: the transcriber switched to ``language``."""
    return _call_event("language-change-detected", timestamp_as, overrides, {"language": language})


def make_voice_input(
    *, input: str | None = _BOT_LINE, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``voice-input``: ``input`` is the text sent to the voice provider."""
    return _call_event("voice-input", timestamp_as, overrides, {"input": input})


def _word_progress(text: str, spoken: int) -> dict[str, Any]:
    words = text.split()
    spoken = min(spoken, len(words))
    return {
        "type": "word-progress",
        "wordsSpoken": spoken,
        "totalWords": len(words),
        "segment": " ".join(words[:spoken]),
        "segmentDurationMs": 330 * spoken,
        "words": [
            {"word": word, "startMs": 330 * i, "endMs": 330 * i + 290}
            for i, word in enumerate(words[:spoken])
        ],
    }


def make_assistant_speech_started(
    *,
    text: str = _BOT_LINE,
    turn: int | None = 1,
    source: str | None = "model",
    timing: Any = AUTO,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``assistant.speechStarted``: the full ``text`` of the turn plus word-progress ``timing``."""
    timing = _word_progress(text, 3) if timing is AUTO else timing
    fields = {"text": text, "turn": turn, "source": source, "timing": timing}
    return _call_event("assistant.speechStarted", timestamp_as, overrides, fields)


def make_voice_request(
    *,
    text: str | None = _GREETING,
    sample_rate: int | None = 24000,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``voice-request`` (custom voice): synthesize ``text`` at ``sample_rate`` Hz."""
    voice = {"provider": "custom-voice", "server": _server("/tts")}
    fields = {"text": text, "sampleRate": sample_rate}
    assistant = _assistant(voice=voice)
    return _call_event("voice-request", timestamp_as, overrides, fields, assistant=assistant)
