"""The registry of background receivers: stable identities, found again from the app."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from flask import Flask

from flask_vapi import ConfigurationError, VapiBlueprint
from flask_vapi.background.receivers import lookup, receiver_id, register
from flask_vapi.models.messages import Message

TYPES = ["end-of-call-report"]


def sync_crm(message: Message) -> None:
    """A module-level receiver."""


class Summariser:
    def __call__(self, message: Message) -> None: ...

    def method(self, message: Message) -> None: ...


def make_app(vapi: VapiBlueprint) -> Flask:
    app = Flask("registry_app")
    app.config.update(VAPI_SECRET="test-secret-0123456789")
    app.register_blueprint(vapi)
    return app


@pytest.mark.parametrize(
    ("func", "expected"),
    [
        (sync_crm, "tests.background.test_registry:sync_crm[end-of-call-report]"),
        (Summariser(), "tests.background.test_registry:Summariser object[end-of-call-report]"),
        (
            Summariser().method,
            "tests.background.test_registry:Summariser.method[end-of-call-report]",
        ),
        (
            functools.partial(sync_crm),
            "tests.background.test_registry:partial(sync_crm)[end-of-call-report]",
        ),
    ],
)
def test_the_identity_is_module_qualname_and_types(func: Any, expected: str) -> None:
    assert receiver_id(func, TYPES) == expected


def test_the_types_of_an_identity_are_sorted_and_unique() -> None:
    assert receiver_id(sync_crm, ["status-update", "end-of-call-report", "status-update"]) == (
        "tests.background.test_registry:sync_crm[end-of-call-report,status-update]"
    )


def test_a_registered_receiver_is_found_from_the_app() -> None:
    vapi = VapiBlueprint()
    record = register(vapi, sync_crm, TYPES)
    assert (record.blueprint, record.func) == ("vapi", sync_crm)
    assert record.id == "tests.background.test_registry:sync_crm[end-of-call-report]"
    app = make_app(vapi)
    assert lookup(app, "vapi", record.id) is record
    assert lookup(app, "sales", record.id) is None
    assert lookup(app, "vapi", "tests.background.test_registry:other[end-of-call-report]") is None
    assert lookup(Flask("without_it"), "vapi", record.id) is None


def test_registering_the_same_function_again_returns_the_same_record() -> None:
    vapi = VapiBlueprint()
    assert register(vapi, sync_crm, TYPES) is register(vapi, sync_crm, TYPES)


def test_two_functions_with_one_identity_are_refused() -> None:
    vapi = VapiBlueprint()
    register(vapi, lambda message: None, TYPES)
    with pytest.raises(ConfigurationError) as raised:
        register(vapi, lambda message: None, TYPES)
    assert str(raised.value) == (
        "Two background receivers of blueprint 'vapi' have the identity "
        "'tests.background.test_registry:test_two_functions_with_one_identity_are_refused."
        "<locals>.<lambda>[end-of-call-report]': a Celery worker could not tell them apart. "
        "Give them distinct names (def, not lambda or partial)."
    )


def test_each_app_of_a_factory_finds_its_own_receiver() -> None:
    def create_app(tag: str) -> tuple[Flask, str]:
        vapi = VapiBlueprint()

        def receiver(message: Message) -> str:
            return tag

        return make_app(vapi), register(vapi, receiver, TYPES).id

    first, first_id = create_app("first")
    second, second_id = create_app("second")
    assert first_id == second_id
    for app, tag in ((first, "first"), (second, "second")):
        found = lookup(app, "vapi", first_id)
        assert found is not None
        assert found.func(None) == tag  # type: ignore[arg-type]
