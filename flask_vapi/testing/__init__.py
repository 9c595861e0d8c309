"""Test helpers: signed requests, a test client, signal recording and realistic payloads.

Everything a test of a Vapi webhook needs without a Vapi account::

    from flask_vapi.testing import VapiClient, make_status_update, record_signals, replay_call, sign

The pytest fixtures ``vapi_client``, ``vapi_signals`` and ``vapi_sign`` come with the
package (plugin ``flask_vapi.testing.plugin``); they use your ``app`` fixture.
"""

from __future__ import annotations

from .. import payloads
from ..payloads import *  # noqa: F403 - the payload factories are part of this namespace
from ..recording import SignalRecord, record_signals
from .client import VapiClient, find_blueprint
from .replay import replay_call
from .signing import sign

__all__ = [
    "SignalRecord",
    "VapiClient",
    "find_blueprint",
    "record_signals",
    "replay_call",
    "sign",
    *payloads.__all__,
]
