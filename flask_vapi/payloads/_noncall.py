"""Factories of messages about no call: chats, sessions and campaign predial."""

from __future__ import annotations

from typing import Any

from ._common import (
    ASSISTANT_ID,
    AUTO,
    CAMPAIGN_ID,
    CHAT_ID,
    CONTACT_ID,
    CUSTOMER_ID,
    CUSTOMER_NUMBER,
    ORG_ID,
    PHONE_NUMBER_ID,
    SESSION_ID,
    _auto,
    _customer,
    _iso,
    _now_ms,
    _plain_event,
)


def _chat() -> dict[str, Any]:
    now = _now_ms()
    reply = "Yes, Dr. Patel has openings next Tuesday at 9:00, 10:30 and 11:15."
    model_cost = {
        "type": "model",
        "model": {"provider": "openai", "model": "gpt-4o"},
        "promptTokens": 812,
        "completionTokens": 38,
        "cost": 0.0023,
    }
    return {
        "id": CHAT_ID,
        "orgId": ORG_ID,
        "assistantId": ASSISTANT_ID,
        "name": "Website chat",
        "sessionId": SESSION_ID,
        "input": "Do you have any appointments with Dr. Patel next Tuesday?",
        "output": [{"role": "assistant", "content": reply}],
        "createdAt": _iso(now - 2300),
        "updatedAt": _iso(now - 200),
        "cost": 0.0123,
        "costs": [model_cost, {"type": "chat", "cost": 0.01}],
    }


def make_chat_created(
    *, chat: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``chat.created``: carries ``chat`` and no ``call``."""
    return _plain_event("chat.created", timestamp_as, overrides, {"chat": _auto(chat, _chat)})


def make_chat_deleted(
    *, chat: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``chat.deleted``: carries ``chat`` and no ``call``."""
    return _plain_event("chat.deleted", timestamp_as, overrides, {"chat": _auto(chat, _chat)})


def _session(session: Any, status: str, age_ms: int) -> dict[str, Any]:
    if session is not AUTO:
        return {"session": session}
    now = _now_ms()
    default = {
        "id": SESSION_ID,
        "orgId": ORG_ID,
        "name": "Maria Gonzalez follow-up",
        "status": status,
        "expirationSeconds": 86400,
        "assistantId": ASSISTANT_ID,
        "customer": _customer(),
        "phoneNumberId": PHONE_NUMBER_ID,
        "createdAt": _iso(now - age_ms),
        "updatedAt": _iso(now - 100),
        "cost": 0.0,
        "costs": [],
    }
    return {"session": default}


def make_session_created(
    *, session: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``session.created``: carries a new, active ``session``."""
    fields = _session(session, "active", 150)
    return _plain_event("session.created", timestamp_as, overrides, fields)


def make_session_updated(
    *, session: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``session.updated``: carries the updated ``session``."""
    fields = _session(session, "active", 600_000)
    return _plain_event("session.updated", timestamp_as, overrides, fields)


def make_session_deleted(
    *, session: Any = AUTO, timestamp_as: str = "ms", **overrides: Any
) -> dict[str, Any]:
    """``session.deleted``: carries the deleted (completed) ``session``."""
    fields = _session(session, "completed", 86_400_000)
    return _plain_event("session.deleted", timestamp_as, overrides, fields)


def make_campaign_predial(
    *,
    campaign_id: str | None = CAMPAIGN_ID,
    contact: Any = AUTO,
    timestamp_as: str = "ms",
    **overrides: Any,
) -> dict[str, Any]:
    """``campaign.predial``: may ``contact`` of campaign ``campaign_id`` be dialed? No call."""
    if contact is AUTO:
        contact = {
            "id": CONTACT_ID,
            "campaignId": campaign_id or CAMPAIGN_ID,
            "orgId": ORG_ID,
            "customerId": CUSTOMER_ID,
            "number": CUSTOMER_NUMBER,
            "name": "Maria Gonzalez",
            "createdAt": _iso(_now_ms() - 2 * 86_400_000),
        }
    fields = {"campaignId": campaign_id, "contact": contact}
    return _plain_event("campaign.predial", timestamp_as, overrides, fields)
