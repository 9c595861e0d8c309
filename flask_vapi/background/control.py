"""Live Call Control: post a late tool result into a live call through its ``controlUrl``.

The standard library's ``http.client`` does the POST: one small JSON request with a
bounded retry needs nothing more, and no redirect is ever followed (urllib would turn a
POST into a GET and could carry the bearer token to another host).
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

from .. import __version__, jsonio
from ..logs import logger, quoted

#: Statuses worth another try: the server is busy or failing, not refusing the request.
_RETRIED = frozenset({429, 500, 502, 503, 504})


def add_message(
    content: str, *, role: str = "system", trigger_response: bool = True
) -> dict[str, Any]:
    """The Live Call Control body that adds ``content`` to the conversation::

        >>> body = add_message("Order 42 ships tomorrow.")
        >>> body["type"], body["message"], body["triggerResponseEnabled"]
        ('add-message', {'role': 'system', 'content': 'Order 42 ships tomorrow.'}, True)

    ``trigger_response``: the model reacts at once (Vapi's default).
    """
    return {
        "type": "add-message",
        "message": {"role": role, "content": content},
        "triggerResponseEnabled": trigger_response,
    }


def format_late_result(tool: str, tool_call_id: str | None, entry: Mapping[str, Any]) -> str:
    """The default content of a late tool result: which tool, which call, what came of it.

    ``entry`` is the call's ``results[]`` part (``result`` text or ``error``).  Replace it
    with ``VapiBlueprint(late_result_formatter=...)``, a callable of the same signature::

        >>> format_late_result("lookupOrder", "call_123", {"result": "Order 42 ships tomorrow."})
        "Result of the tool 'lookupOrder' (tool call call_123): Order 42 ships tomorrow."
        >>> format_late_result("lookupOrder", "call_123", {"error": "Order not found."})
        "The tool 'lookupOrder' (tool call call_123) failed: Order not found."
    """
    which = f"the tool '{tool}'" + (f" (tool call {tool_call_id})" if tool_call_id else "")
    if "error" in entry:
        return f"{which[0].upper()}{which[1:]} failed: {entry['error']}"
    return f"Result of {which}: {entry.get('result', '')}"


@dataclass(frozen=True)
class Delivery:
    """What came of posting to a control URL."""

    #: Whether a 2xx answer came back.
    delivered: bool
    #: How many requests were made.
    attempts: int
    #: The last HTTP status, ``None`` when no answer came.
    status: int | None = None
    #: Why it gave up (``None`` when delivered); never holds the URL or the token.
    reason: str | None = None


def post(
    url: str,
    body: Mapping[str, Any],
    *,
    token: str | None = None,
    call_id: str | None = None,
    attempts: int = 3,
    backoff: float = 0.5,
    timeout: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST ``body`` as JSON to the control URL ``url``; never raises for the network.

    Connection errors, timeouts (``timeout`` per try), 429 and 5xx are tried again, up to
    ``attempts`` tries in all, waiting ``backoff``, then twice as long each time; another
    status gives up at once (a 3xx too: redirects are not followed).  ``token`` is sent as
    ``Authorization: Bearer`` (Vapi's ``controlAuthenticationEnabled``).  The outcome is
    logged once (the call id, never the URL or the token)::

        >>> post("ftp://example.com/control", add_message("hi")).reason
        'the control URL is not an http(s) URL'
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _gave_up(Delivery(False, 0, None, "the control URL is not an http(s) URL"), call_id)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"flask-vapi/{__version__}",
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = jsonio.dumps(dict(body))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    status: int | None = None
    reason = "no attempt was made"
    delay = backoff
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            sleep(delay)
            delay *= 2
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parts.hostname, parts.port, timeout=timeout)
        try:
            connection.request("POST", target, body=data, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            status, reason = None, f"{type(exc).__name__} (no answer)"
            continue
        finally:
            connection.close()
        if 200 <= status < 300:
            logger.info(
                "Delivered a late tool result to Vapi call %s (attempt %d).",
                quoted(call_id),
                attempt,
            )
            return Delivery(True, attempt, status)
        reason = f"HTTP {status}"
        if status not in _RETRIED:
            return _gave_up(Delivery(False, attempt, status, reason), call_id)
    return _gave_up(Delivery(False, attempts, status, reason), call_id)


def _gave_up(delivery: Delivery, call_id: str | None) -> Delivery:
    logger.warning(
        "Gave up delivering a late tool result to Vapi call %s after %d attempt(s): %s.",
        quoted(call_id),
        delivery.attempts,
        delivery.reason,
    )
    return delivery
