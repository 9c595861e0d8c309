"""flask_vapi: make a Flask app a correct, secure Vapi Server URL."""

from . import models, signals
from .blueprint import VapiBlueprint
from .context import call_state, current_message, current_tool_call
from .errors import ConfigurationError
from .tools import ToolError, ToolResult

__version__ = "0.1.0"
"""The version of flask-vapi (PEP 440), also the package's metadata version::

    >>> import flask_vapi
    >>> flask_vapi.__version__
    '0.1.0'
"""

__all__ = [
    "ConfigurationError",
    "ToolError",
    "ToolResult",
    "VapiBlueprint",
    "call_state",
    "current_message",
    "current_tool_call",
    "models",
    "signals",
]
