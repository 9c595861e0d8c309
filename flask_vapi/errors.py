"""Exceptions raised by flask_vapi and the machine-readable error codes of its responses."""

from __future__ import annotations

from typing import Any


class ConfigurationError(RuntimeError):
    """The app's ``VAPI_*`` configuration or a registration is invalid (raised at startup)."""


class Rejection(Exception):
    """A request refused with an HTTP error; becomes the JSON error body.

    ``code`` is machine-readable (one of the constants below), ``message`` says what
    was wrong, ``errors`` holds per-field messages (422).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: dict[str, Any] | None = None,
        *,
        message_type: str | None = None,
        call_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        #: The message's type and call id, when the body got far enough to tell (for logs).
        self.message_type = message_type
        self.call_id = call_id

    def body(self) -> dict[str, Any]:
        """The JSON error body: ``code``, ``status``, ``message`` and, if any, ``errors``."""
        body: dict[str, Any] = {"code": self.code, "status": self.status, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class InvalidResponse(Exception):
    """A responder returned a value Vapi would not accept (sent as ``handler_error``)."""

    def __init__(self, message_type: str, errors: Any) -> None:
        super().__init__(f"invalid response to {message_type!r}: {errors}")
        self.message_type = message_type
        self.errors = errors


class DeadlineExceeded(Exception):
    """A handler did not answer within its budget: the caller got the fallback at once.

    Sent as ``handler_error``; the handler goes on off the request path and its outcome is
    sent on :data:`~flask_vapi.signals.late_result`.  ``tool`` names the tool (for tool
    calls), ``budget`` is in seconds.
    """

    def __init__(self, message_type: str, budget: float, tool: str | None = None) -> None:
        what = f"tool {tool!r}" if tool is not None else f"the {message_type!r} responder"
        super().__init__(self._text(what, budget))
        self.message_type = message_type
        self.budget = budget
        self.tool = tool

    @staticmethod
    def _text(what: str, budget: float) -> str:
        return f"{what} did not finish within its {budget:g} s budget"


class PoolExhausted(DeadlineExceeded):
    """Every thread of the handler pool (``VAPI_MAX_WORKERS``) was busy: the handler did not
    run and the caller got the fallback at once."""

    @staticmethod
    def _text(what: str, budget: float) -> str:
        return f"{what} did not run: every handler thread is busy (see VAPI_MAX_WORKERS)"


#: Error codes of the JSON error bodies.
UNAUTHORIZED = "unauthorized"
INVALID_JSON = "invalid_json"
INVALID_ENVELOPE = "invalid_envelope"
INVALID_MESSAGE = "invalid_message"
PAYLOAD_TOO_LARGE = "payload_too_large"
METHOD_NOT_ALLOWED = "method_not_allowed"
