"""Typed Vapi objects and messages, validated with marshmallow."""

from .base import VapiObject
from .common import (
    Analysis,
    Artifact,
    ArtifactUpload,
    Assistant,
    Call,
    CampaignContact,
    Chat,
    Customer,
    HistoryMessage,
    OpenAIMessage,
    PhoneNumber,
    Session,
    TransferDestination,
)
from .messages import *  # noqa: F403
from .messages import __all__ as _message_names
from .simulations import SimulationCalls, SimulationRunEnded, SimulationRunStarted
from .tools import ToolCall, ToolWithToolCall

__all__ = [
    "Analysis",
    "Artifact",
    "ArtifactUpload",
    "Assistant",
    "Call",
    "CampaignContact",
    "Chat",
    "Customer",
    "HistoryMessage",
    "OpenAIMessage",
    "PhoneNumber",
    "Session",
    "SimulationCalls",
    "SimulationRunEnded",
    "SimulationRunStarted",
    "ToolCall",
    "ToolWithToolCall",
    "TransferDestination",
    "VapiObject",
    *_message_names,
]
