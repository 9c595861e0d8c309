"""Exceptions raised by flask_vapi and the machine-readable error codes of its responses."""

from __future__ import annotations


class ConfigurationError(RuntimeError):
    """The app's ``VAPI_*`` configuration or a registration is invalid (raised at startup)."""
