"""``call_state``: per-call state in the store, shared by the webhooks of a call and by workers."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Callable

import pytest
from flask import Flask

from flask_vapi import VapiBlueprint, call_state
from flask_vapi.payloads import CALL_ID, make_end_of_call_report, make_tool_calls
from flask_vapi.store import open_store
from flask_vapi.store.state import CallState

from .conftest import SECRET

PATIENCE = 10.0


def post(app: Flask, message: dict[str, Any]) -> Any:
    response = app.test_client().post(
        "/vapi/webhook", json={"message": message}, headers={"X-Vapi-Secret": SECRET}
    )
    assert response.status_code == 200
    return response.get_json()


def result(answer: Any) -> str:
    text: str = answer["results"][0].get("result") or answer["results"][0]["error"]
    return text


def clinic(make_app: Callable[..., Flask], **config: Any) -> Flask:
    vapi = VapiBlueprint()

    @vapi.tool
    def identify(patient_id: int) -> str:
        call_state["patient_id"] = patient_id
        return "identified"

    @vapi.tool
    def book(slot: str) -> str:
        return f"booked {slot} for patient {call_state['patient_id']}"

    @vapi.tool
    def count() -> int:
        with call_state.transaction() as state:
            state["n"] = state.get("n", 0) + 1
            return int(state["n"])

    @vapi.tool
    def remember(value: Any) -> str:
        call_state["value"] = value
        return "kept"

    return make_app(vapi, **config)


def test_a_later_tool_call_of_the_call_reads_what_an_earlier_one_set(
    make_app: Callable[..., Flask],
) -> None:
    app = clinic(make_app)
    assert result(post(app, make_tool_calls(("identify", {"patient_id": 42})))) == "identified"
    assert result(post(app, make_tool_calls(("book", {"slot": "10:30"})))) == (
        "booked 10:30 for patient 42"
    )


def test_another_call_has_its_own_state(make_app: Callable[..., Flask]) -> None:
    app = clinic(make_app)
    post(app, make_tool_calls(("identify", {"patient_id": 42})))
    other = make_tool_calls(("book", {"slot": "11:00"}))
    other["call"]["id"] = "another-call"
    assert result(post(app, other)) == "The tool 'book' failed with an internal error."


def test_two_workers_on_one_file_share_the_state(
    make_app: Callable[..., Flask], tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path}/state.sqlite3"
    first, second = clinic(make_app, VAPI_STORE_URL=url), clinic(make_app, VAPI_STORE_URL=url)
    post(first, make_tool_calls(("identify", {"patient_id": 7})))
    assert result(post(second, make_tool_calls(("book", {"slot": "9:00"})))).endswith("patient 7")


def test_concurrent_transactions_lose_no_update(
    make_app: Callable[..., Flask], tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path}/state.sqlite3"
    apps = [clinic(make_app, VAPI_STORE_URL=url) for _ in range(2)]
    counts: list[int] = []

    def call(index: int) -> None:
        counts.append(int(result(post(apps[index % 2], make_tool_calls(("count", {}))))))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(PATIENCE)
    assert sorted(counts) == list(range(1, 21))


def test_a_value_json_cannot_hold_is_the_calls_error(make_app: Callable[..., Flask]) -> None:
    vapi = VapiBlueprint()

    @vapi.tool
    def keep() -> str:
        call_state["when"] = object()
        return "kept"

    app = make_app(vapi)
    assert result(post(app, make_tool_calls(("keep", {})))) == (
        "The tool 'keep' failed with an internal error."
    )


def test_outside_a_message_call_state_says_how_to_reach_one(
    make_app: Callable[..., Flask],
) -> None:
    with pytest.raises(RuntimeError, match=r"use vapi.call_state\(call_id\)"):
        call_state["x"] = 1
    vapi = VapiBlueprint()
    app = clinic(make_app)
    vapi = next(iter(app.blueprints.values()))  # type: ignore[assignment]
    post(app, make_tool_calls(("identify", {"patient_id": 3})))
    with app.app_context():
        state = vapi.call_state(CALL_ID)
        assert state["patient_id"] == 3
        state["crm_synced"] = True
    assert result(post(app, make_tool_calls(("book", {"slot": "8:00"})))).endswith("patient 3")


def test_the_state_is_kept_call_state_ttl_after_the_report_late_writes_included(
    make_app: Callable[..., Flask], tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path}/state.sqlite3"
    app = clinic(make_app, VAPI_STORE_URL=url, VAPI_CALL_STATE_TTL=0.5)
    post(app, make_tool_calls(("identify", {"patient_id": 5})))
    store = open_store(url)
    try:
        state = CallState(store, CALL_ID)
        post(app, make_end_of_call_report())
        assert state["patient_id"] == 5  # a hook tool call right after the end still sees it
        # Hook tool calls after the end write the state: it still ends with the report's TTL.
        assert result(post(app, make_tool_calls(("remember", {"value": "late"})))) == "kept"
        assert result(post(app, make_tool_calls(("count", {})))) == "1"  # a transaction too
        assert dict(state) == {"patient_id": 5, "value": "late", "n": 1}  # no marker shown
        stop = time.monotonic() + PATIENCE
        while "patient_id" in state:
            assert time.monotonic() < stop, "the state outlived VAPI_CALL_STATE_TTL"
            time.sleep(0.05)
    finally:
        store.close()


def test_the_mapping_interface(make_app: Callable[..., Flask]) -> None:
    from flask_vapi.store.memory import MemoryStore

    state = CallState(MemoryStore(), "c")
    state.update({"a": 1}, b=[1, 2])
    assert state.setdefault("a", 9) == 1 and state.setdefault("c", 3) == 3
    assert dict(state) == {"a": 1, "b": [1, 2], "c": 3} and len(state) == 3
    del state["a"]
    with pytest.raises(KeyError):
        del state["a"]
    assert "a" not in state and state.get("a") is None
    with pytest.raises(TypeError, match="call_state values must be JSON"):
        state["bad"] = {1, object()}
    with pytest.raises(ZeroDivisionError), state.transaction() as data:
        data["lost"] = True
        raise ZeroDivisionError  # an exception: nothing is written
    assert "lost" not in state
    state.clear()
    assert dict(state) == {}
    assert json.loads(json.dumps(dict(state))) == {}


def test_a_plain_write_during_a_transaction_fails_the_transaction_not_the_write() -> None:
    from flask_vapi.store import StoreError
    from flask_vapi.store.memory import MemoryStore

    state = CallState(MemoryStore(), "c")
    state["n"] = 1
    with pytest.raises(StoreError, match="changed by another writer"):
        with state.transaction() as data:
            data["n"] += 1
            state["other"] = "kept"  # another worker's plain write, in between
    assert dict(state) == {"n": 1, "other": "kept"}
    with state.transaction() as data:  # the lock was given back
        data["n"] += 1
    assert state["n"] == 2


def test_a_transaction_that_outlives_its_lock_loses_no_other_transaction() -> None:
    from flask_vapi.store import StoreError
    from flask_vapi.store.memory import MemoryStore

    state = CallState(MemoryStore(), "c")
    state["n"] = 0
    inside, errors = threading.Event(), []

    def slow() -> None:
        try:
            with state.transaction(timeout=0.2) as data:
                inside.set()
                time.sleep(0.5)  # the lock lapses meanwhile
                data["n"] += 100
        except StoreError as exc:
            errors.append(exc)

    thread = threading.Thread(target=slow)
    thread.start()
    assert inside.wait(PATIENCE)
    with state.transaction(timeout=PATIENCE) as data:  # enters once the lock lapsed
        data["n"] += 1
    thread.join(PATIENCE)
    assert state["n"] == 1
    assert len(errors) == 1 and "0.2 s lock" in str(errors[0])
