"""Factory payloads against Vapi's own Python SDK (``vapi_server_sdk``, pydantic models)."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from flask_vapi import payloads as p

#: Wire types the SDK has no server-message model for: legacy or client-side-only types.
NO_SDK_MODEL = {"function-call", "language-changed", "assistant.started"}
SDK_TYPES = sorted(set(p.FACTORIES) - NO_SDK_MODEL)


def _literals(annotation: Any) -> set[str]:
    """The string literals of an SDK ``type`` annotation (``Union[Literal["hang"], Any]``)."""
    if typing.get_origin(annotation) is typing.Literal:
        return {value for value in typing.get_args(annotation) if isinstance(value, str)}
    values: set[str] = set()
    for argument in typing.get_args(annotation):
        values |= _literals(argument)
    return values


@pytest.fixture(scope="session")
def sdk_models() -> dict[str, Any]:
    """Wire type -> the SDK's model, read from the SDK's ``ServerMessageMessage`` union.

    Imported here, not at module level: the SDK takes several seconds to import.
    """
    from vapi.types.server_message_message import ServerMessageMessage

    models: dict[str, Any] = {}
    for model in typing.get_args(ServerMessageMessage):
        for wire_type in _literals(model.model_fields["type"].annotation):
            models[wire_type] = model
    return models


def test_the_sdk_models_every_current_type(sdk_models: dict[str, Any]) -> None:
    assert len(sdk_models) == 30  # 29 union members; transcript has both spellings
    assert set(sdk_models) == set(SDK_TYPES)
    assert sdk_models["end-of-call-report"].__name__ == "ServerMessageEndOfCallReport"


@pytest.mark.parametrize("wire_type", SDK_TYPES)
def test_defaults_are_valid_sdk_messages(sdk_models: dict[str, Any], wire_type: str) -> None:
    message = p.FACTORIES[wire_type]()
    loaded = sdk_models[wire_type].model_validate(message)
    assert loaded.type == wire_type


SDK_VARIATIONS: dict[str, Any] = {
    "tool-calls 2 calls": lambda: p.make_tool_calls(
        ("checkAvailability", {"doctor": "Dr. Patel"}), ("bookAppointment", {"time": "10:30"})
    ),
    "status ended": lambda: p.make_status_update(status="ended"),
    "status forwarding": lambda: p.make_status_update(status="forwarding"),
    "end-of-call-report legacy fields": lambda: p.make_end_of_call_report(legacy_fields=True),
    "transfer-update assistant": lambda: p.make_transfer_update(
        destination={"type": "assistant", "assistantName": "Billing Assistant"}
    ),
    "model-output tool-call chunk": lambda: p.make_model_output(
        output={"toolCalls": [{"id": p.tool_call_id(0)}]}
    ),
    "transcript confidence": lambda: p.make_transcript(
        confidence=0.93, confidence_source="provider"
    ),
}


@pytest.mark.parametrize("name", sorted(SDK_VARIATIONS))
def test_variations_are_valid_sdk_messages(sdk_models: dict[str, Any], name: str) -> None:
    message = SDK_VARIATIONS[name]()
    sdk_models[message["type"]].model_validate(message)


@pytest.mark.parametrize(
    ("message", "location"),
    [
        # The SDK types ``function.arguments`` as a string, as the current spec does.
        (lambda: p.make_tool_calls(arguments_as="object"), "function.arguments"),
        # ... and ``model-output.output`` as an object (a bare string token is older).
        (lambda: p.make_model_output(output_as="string"), "output"),
        # ... and ``timestamp`` as epoch milliseconds (ISO strings are from before 2025).
        (lambda: p.make_hang(timestamp_as="iso"), "timestamp"),
    ],
)
def test_the_sdk_refuses_the_older_forms(
    sdk_models: dict[str, Any], message: Any, location: str
) -> None:
    from pydantic import ValidationError

    payload = message()
    with pytest.raises(ValidationError) as excinfo:
        sdk_models[payload["type"]].model_validate(payload)
    assert any(
        ".".join(str(part) for part in error["loc"]).endswith(location)
        for error in excinfo.value.errors()
    )
