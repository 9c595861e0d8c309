"""Live Call Control: post a late tool result into a live call through its ``controlUrl``.

The standard library's ``http.client`` does the POST: one small JSON request with a
bounded retry needs nothing more, and no redirect is ever followed (urllib would turn a
POST into a GET and could carry the bearer token to another host).
"""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple
from urllib.parse import urlsplit

from .. import __version__, jsonio
from ..logs import logger, quoted

# Reasons for URLs that are not requested at all.
_NOT_HTTP = "the control URL is not an http(s) URL"
_MALFORMED = "the control URL is malformed"

_REDIRECT = "HTTP %d: a redirect, not followed"
# Whitespace and control characters: never part of a URL that is sent.
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


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
    """What came of posting to a control URL: :func:`post` returns one.

    A URL that is not posted to is given up at once::

        >>> post("mailto:ops@example.com", add_message("hi"))
        Delivery(delivered=False, attempts=0, status=None, reason='the control URL is not ...')
    """

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
    stop: Callable[[], str | None] | None = None,
) -> Delivery:
    """POST ``body`` as JSON to the control URL ``url``; never raises for the network.

    Connection errors, timeouts, 429 and 5xx are tried again, up to ``attempts`` tries in
    all, waiting ``backoff``, then twice as long each time; another status gives up at once
    (a 3xx too: redirects are not followed).  ``timeout`` bounds each network wait of a try
    (connecting, sending, reading the answer's head); the answer's body is not read.
    ``token`` is sent as ``Authorization: Bearer`` (Vapi's ``controlAuthenticationEnabled``).
    ``stop``, asked before each try after the first, returns why not to try again (the call
    ended meanwhile), or ``None``.
    A URL that is not http(s), or is malformed, is given up without a request.  The outcome
    is logged once (the call id, never the URL or the token)::

        >>> post("ftp://example.com/control", add_message("hi")).reason
        'the control URL is not an http(s) URL'

    It raises only for a bug in the arguments (``attempts`` below 1, a ``body`` that is not
    JSON).
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts!r}")
    data = jsonio.dumps(dict(body))
    target = _target(url)
    if isinstance(target, str):
        return _gave_up(Delivery(False, 0, None, target), call_id)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"flask-vapi/{__version__}",
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    status: int | None = None
    reason = ""
    delay = backoff
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            sleep(delay)
            delay *= 2
            stopped = stop() if stop is not None else None
            if stopped is not None:
                return _gave_up(Delivery(False, attempt - 1, status, stopped), call_id)
        connection = target.connection(host=target.host, port=target.port, timeout=timeout)
        try:
            connection.request("POST", target.path, body=data, headers=headers)
            response = connection.getresponse()
            status = response.status
            response.close()  # the status is the whole answer: the body is never read
        except (OSError, http.client.HTTPException) as exc:  # messages may quote the host
            status, reason = None, f"{type(exc).__name__} (no answer)"
            continue
        finally:
            connection.close()
        if 200 <= status < 300:
            logger.info(
                "Live Call Control: delivered to Vapi call %s after %d attempt(s).",
                quoted(call_id),
                attempt,
            )
            return Delivery(True, attempt, status)
        if 300 <= status < 400:
            return _gave_up(Delivery(False, attempt, status, _REDIRECT % status), call_id)
        reason = f"HTTP {status}"
        if not _retried(status):
            return _gave_up(Delivery(False, attempt, status, reason), call_id)
    return _gave_up(Delivery(False, attempts, status, reason), call_id)


def _retried(status: int) -> bool:
    """Whether a status is worth another try: the server is busy or failing, not refusing."""
    return status == 429 or 500 <= status < 600


class _Target(NamedTuple):
    """Where to connect for a control URL, checked before any request."""

    connection: type[http.client.HTTPConnection]
    host: str
    port: int | None
    path: str


def _target(url: str) -> _Target | str:
    """The parts of an http(s) URL to connect to, or why there are none (never the URL)."""
    if _UNSAFE.search(url):  # urlsplit would drop tabs and newlines silently
        return _MALFORMED
    try:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return _NOT_HTTP
        port = parts.port
        host = parts.hostname.encode("idna").decode("ascii")  # before DNS can fail on it
    except ValueError:  # a port that is no number or out of range, a bad [IPv6], a DNS label
        return _MALFORMED
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not path.isascii():
        return _MALFORMED
    https = parts.scheme == "https"
    return _Target(
        http.client.HTTPSConnection if https else http.client.HTTPConnection, host, port, path
    )


def _gave_up(delivery: Delivery, call_id: str | None) -> Delivery:
    logger.warning(
        "Live Call Control: gave up on Vapi call %s after %d attempt(s): %s.",
        quoted(call_id),
        delivery.attempts,
        delivery.reason,
    )
    return delivery
