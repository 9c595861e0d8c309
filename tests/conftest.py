"""Shared fixtures: an app with a registered VapiBlueprint, signal recording, Vapi's JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from blinker import NamedSignal
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from flask_vapi import VapiBlueprint, signals

SECRET = "test-secret-0123456789"
HEADERS = {"X-Vapi-Secret": SECRET}
SCHEMA_PATH = Path(__file__).parent / "data" / "server-message.schema.json"

#: Every signal object in flask_vapi.signals, by attribute name.
ALL_SIGNALS: dict[str, NamedSignal] = {
    name: value for name, value in vars(signals).items() if isinstance(value, NamedSignal)
}


@pytest.fixture(autouse=True)
def _instance_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's apps get an instance folder of their own (the default SQLite store lives
    there): nothing is written to the repository, and no test sees another's messages."""
    folder = str(tmp_path / "instance")
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: folder)


@pytest.fixture
def vapi() -> VapiBlueprint:
    return VapiBlueprint()


@pytest.fixture
def make_app() -> Callable[..., Flask]:
    """Build an app (TESTING, secret auth) with the given blueprint registered."""

    def factory(blueprint: VapiBlueprint | None = None, **config: Any) -> Flask:
        app = Flask("test_app")
        app.config.update({"TESTING": True, "VAPI_SECRET": SECRET, **config})
        app.register_blueprint(blueprint or VapiBlueprint())
        return app

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask], vapi: VapiBlueprint) -> Flask:
    return make_app(vapi)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def post(client: FlaskClient) -> Callable[..., Any]:
    """POST a message (wrapped in the envelope) with the right secret."""

    def send(message: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        return client.post(
            "/vapi/webhook",
            json={"message": message},
            headers=HEADERS if headers is None else headers,
        )

    return send


class Recorder(list):  # type: ignore[type-arg]
    """(signal name, kwargs) for every flask_vapi signal sent."""

    def names(self) -> list[str]:
        return [name for name, _ in self]

    def of(self, name: str) -> list[dict[str, Any]]:
        return [kwargs for sent, kwargs in self if sent == name]


@pytest.fixture
def received() -> Iterator[Recorder]:
    recorder = Recorder()
    receivers = []
    for name, signal in ALL_SIGNALS.items():

        def receiver(sender: Any, _name: str = name, **kwargs: Any) -> None:
            recorder.append((_name, {"sender": sender, **kwargs}))

        signal.connect(receiver)
        receivers.append((signal, receiver))
    try:
        yield recorder
    finally:
        for signal, receiver in receivers:
            signal.disconnect(receiver)


@pytest.fixture(scope="session")
def vapi_schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@pytest.fixture(scope="session")
def response_validator(vapi_schema: dict[str, Any]) -> Callable[[str, Any], None]:
    """Assert that a response body is valid for Vapi's ``ServerMessageResponse<Name>``."""
    validators: dict[str, Draft202012Validator] = {}

    def check(definition: str, body: Any) -> None:
        if definition not in validators:
            validators[definition] = Draft202012Validator(
                {"$defs": vapi_schema["$defs"], "$ref": f"#/$defs/{definition}"}
            )
        errors = sorted(validators[definition].iter_errors(body), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]

    return check


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a real ``redis-server`` started for this test session (never skipped)."""
    from tests.servers import start_redis

    try:
        server = start_redis()
    except RuntimeError as exc:
        failure = str(exc)  # failed below, outside this block: the message alone, no chain
    else:
        failure = ""
    if failure:
        pytest.fail(failure, pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()
