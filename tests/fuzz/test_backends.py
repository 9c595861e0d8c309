"""The backend switch the fuzz properties use reaches every JSON call of the webhook."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable

import pytest

import flask_vapi
from flask_vapi import jsonio

from . import harness
from .backends import _PAIRS, BACKENDS, use_backend


def _library_modules() -> list[Any]:
    names = pkgutil.walk_packages(flask_vapi.__path__, prefix="flask_vapi.")
    return [importlib.import_module(info.name) for info in names]


def test_no_module_binds_a_backend_function_by_name() -> None:
    # ``from .jsonio import dumps`` would keep the import-time backend: the switch (and
    # any later fix of jsonio) would not reach that module.
    functions = {id(function) for pair in _PAIRS.values() for function in pair}
    functions |= {id(jsonio.loads), id(jsonio.dumps)}
    bound = [
        f"{module.__name__}.{name}"
        for module in _library_modules()
        if module is not jsonio
        for name, value in vars(module).items()
        if id(value) in functions or name == "orjson"
    ]
    assert bound == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_webhook_parses_and_encodes_through_the_chosen_backend(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[str] = []

    def spy(name: str, function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def call(value: Any) -> Any:
            used.append(name)
            return function(value)

        return call

    with use_backend(backend):
        assert backend == jsonio.BACKEND
        loads, dumps = _PAIRS[backend]
        monkeypatch.setattr(jsonio, "loads", spy("loads", loads))
        monkeypatch.setattr(jsonio, "dumps", spy("dumps", dumps))
        body = b'{"message":{"type":"tool-calls","toolCallList":[{"id":"c1","function":'
        body += b'{"name":"checkAvailability","arguments":{"day":"mon"}}}]}}'
        answer = harness.post(body)
        answered, used[:] = list(used), []
        rejected = harness.post(b"{")
        monkeypatch.undo()
    assert answer.body["results"][0]["result"] == '{"day":"mon"}'
    assert set(answered) == {"loads", "dumps"}  # the body; the tool's result and the answer
    assert rejected.status == 400
    assert used == ["loads", "dumps"]  # the body; the error body


def test_use_backend_restores_the_import_time_backend() -> None:
    before = jsonio.loads, jsonio.dumps, jsonio.BACKEND
    for backend in BACKENDS:
        with use_backend(backend):
            assert backend == jsonio.BACKEND
        assert (jsonio.loads, jsonio.dumps, jsonio.BACKEND) == before
    with pytest.raises(LookupError):
        with use_backend("simplejson"):
            pass
