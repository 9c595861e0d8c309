"""Exactly-once handling: a redelivery runs nothing, gets the first answer, signals only that."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable

import pytest
from flask import Flask

from flask_vapi import VapiBlueprint, signals
from flask_vapi.errors import ConfigurationError
from flask_vapi.payloads import (
    make_assistant_request,
    make_end_of_call_report,
    make_status_update,
    make_tool_calls,
)

from .conftest import SECRET, Recorder

PATIENCE = 10.0


class Post:
    """POST raw bytes to one app, as Vapi would redeliver them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()

    def __call__(self, message: dict[str, Any] | bytes, path: str = "/vapi/webhook") -> Any:
        body = message if isinstance(message, bytes) else json.dumps({"message": message}).encode()
        response = self.client.post(
            path, data=body, headers={"X-Vapi-Secret": SECRET, "Content-Type": "application/json"}
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()


@pytest.fixture
def post(make_app: Callable[..., Flask], vapi: VapiBlueprint) -> Callable[..., Post]:
    def build(**config: Any) -> Post:
        return Post(make_app(vapi, **config))

    return build


def test_a_redelivered_tool_call_runs_once_and_gets_the_first_answer(
    vapi: VapiBlueprint, post: Callable[..., Post], received: Recorder, caplog: Any
) -> None:
    runs: list[str] = []

    @vapi.tool
    def book(slot: str) -> str:
        runs.append(slot)
        return f"Booked {slot} (#{len(runs)})."

    send = post()
    message = make_tool_calls(("book", {"slot": "10:30"}, "call_a"))
    first = send(message)
    with caplog.at_level(logging.INFO, "flask_vapi"):
        again = send(message)
    assert runs == ["10:30"]
    assert (
        first
        == again
        == {"results": [{"toolCallId": "call_a", "name": "book", "result": "Booked 10:30 (#1)."}]}
    )
    assert received.names().count("tool_calls") == 1  # the redelivery signals nothing else
    assert received.names().count("message_received") == 1
    duplicates = received.of("duplicate_message")
    assert [d["tool_call"].id for d in duplicates] == ["call_a"]
    assert "redelivered" in caplog.text and "call_a" in caplog.text


def test_the_same_tool_call_in_another_body_is_still_a_redelivery(
    vapi: VapiBlueprint, post: Callable[..., Post]
) -> None:
    runs: list[int] = []
    vapi.tool("charge")(lambda: runs.append(1) or "charged")
    send = post()
    send(make_tool_calls(("charge", {}, "call_x")))
    # Vapi's retry differs in its timestamp (and presigned URLs), not in the call's ids.
    answer = send(make_tool_calls(("charge", {}, "call_x")))
    assert runs == [1]
    assert answer["results"][0]["result"] == "charged"


def test_a_new_call_next_to_a_redelivered_one_runs(
    vapi: VapiBlueprint, post: Callable[..., Post], received: Recorder
) -> None:
    runs: list[str] = []

    @vapi.tool
    def step(n: int) -> int:
        runs.append(str(n))
        return n * 10

    send = post()
    send(make_tool_calls(("step", {"n": 1}, "c1")))
    answer = send(make_tool_calls(("step", {"n": 1}, "c1"), ("step", {"n": 2}, "c2")))
    assert runs == ["1", "2"]
    assert [entry["result"] for entry in answer["results"]] == ["10", "20"]
    assert received.names().count("tool_calls") == 2  # a message with a new call is new


class Held:
    """A handler that records its runs and holds until released."""

    def __init__(self, result: Any = None) -> None:
        self.started, self.release = threading.Event(), threading.Event()
        self.runs: list[Any] = []
        self.result = result

    def __call__(self, *args: Any) -> Any:
        self.runs.append(args)
        self.started.set()
        self.release.wait(PATIENCE)
        return self.result


def deliver_twice(send: Post, message: Any, held: Held, hold: float = 0.0) -> list[Any]:
    """The answers to a delivery and to a redelivery sent while the first is held; the
    redelivery is still waiting ``hold`` seconds later (past any claim margin)."""
    answers: list[Any] = []
    first = threading.Thread(target=lambda: answers.append(send(message)))
    first.start()
    assert held.started.wait(PATIENCE)
    second = threading.Thread(target=lambda: answers.append(send(message)))
    second.start()
    if hold:
        second.join(hold)
        assert second.is_alive()  # waiting for the first, not answering on its own
    held.release.set()
    first.join(PATIENCE)
    second.join(PATIENCE)
    return answers


def test_a_redelivery_waits_for_a_first_delivery_still_running(
    vapi: VapiBlueprint, post: Callable[..., Post]
) -> None:
    held = Held("done once")
    vapi.tool("slow")(held)
    answers = deliver_twice(post(), make_tool_calls(("slow", {}, "c_slow")), held)
    assert len(held.runs) == 1
    assert [a["results"][0]["result"] for a in answers] == ["done once", "done once"]


def _short_claim_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Claims that would lapse within the test if they were only the margin long."""
    from flask_vapi import once, toolcalls

    monkeypatch.setattr(once, "CLAIM_MARGIN", 0.1)
    monkeypatch.setattr(toolcalls, "CLAIM_MARGIN", 0.1)


def test_without_a_budget_a_redelivery_waits_for_the_first_as_long_as_vapi_would(
    vapi: VapiBlueprint, post: Callable[..., Post], monkeypatch: pytest.MonkeyPatch
) -> None:
    _short_claim_margin(monkeypatch)
    held = Held("done once")
    vapi.tool("slow")(held)
    send = post(VAPI_DEADLINES={"tool-calls": None})  # the tool runs inline, unguarded
    # Past the margin: the claim holds for VAPI_SERVER_TIMEOUT.
    answers = deliver_twice(send, make_tool_calls(("slow", {}, "c_unbudgeted")), held, 0.5)
    assert len(held.runs) == 1
    assert [a["results"][0]["result"] for a in answers] == ["done once", "done once"]


def test_a_receiver_slower_than_the_margin_is_not_run_again_by_a_redelivery(
    vapi: VapiBlueprint, post: Callable[..., Post], monkeypatch: pytest.MonkeyPatch
) -> None:
    _short_claim_margin(monkeypatch)
    held = Held()
    vapi.on("end-of-call-report")(held)
    body = json.dumps({"message": make_end_of_call_report()}).encode()
    assert deliver_twice(post(), body, held, 0.5) == [{}, {}]
    assert len(held.runs) == 1


def test_a_redelivery_of_a_call_still_running_past_the_budget_gets_its_timeout_answer(
    vapi: VapiBlueprint, post: Callable[..., Post]
) -> None:
    started, release = threading.Event(), threading.Event()

    @vapi.tool(on_timeout="Still working on it.")
    def slow() -> str:
        started.set()
        release.wait(PATIENCE)
        return "done"

    send = post(VAPI_DEADLINES={"tool-calls": 0.3})
    message = make_tool_calls(("slow", {}, "c_busy"))
    holder = threading.Thread(target=lambda: send(message))
    holder.start()
    try:
        assert started.wait(PATIENCE)
        assert send(message)["results"][0]["result"] == "Still working on it."
    finally:
        release.set()
        holder.join(PATIENCE)


def test_an_identical_report_is_received_once(
    vapi: VapiBlueprint, post: Callable[..., Post], received: Recorder
) -> None:
    reports: list[Any] = []
    vapi.on("end-of-call-report")(reports.append)
    send = post()
    body = json.dumps({"message": make_end_of_call_report()}).encode()
    assert send(body) == send(body) == {}
    assert len(reports) == 1
    assert received.names().count("end_of_call_report") == 1
    assert len(received.of("duplicate_message")) == 1


def test_a_redelivered_assistant_request_gets_the_first_answer(
    vapi: VapiBlueprint, post: Callable[..., Post]
) -> None:
    chosen: list[str] = []

    @vapi.assistant_request
    def choose(message: Any) -> dict[str, Any]:
        chosen.append("x")
        return {"assistantId": f"assistant-{len(chosen)}"}

    send = post()
    body = json.dumps({"message": make_assistant_request()}).encode()
    assert send(body) == send(body) == {"assistantId": "assistant-1"}
    assert chosen == ["x"]


def test_distinct_factory_messages_are_never_taken_for_redeliveries(
    vapi: VapiBlueprint, post: Callable[..., Post], received: Recorder
) -> None:
    send = post()
    for _ in range(20):
        send(make_status_update(status="in-progress"))
    assert received.names().count("status_update") == 20
    assert received.of("duplicate_message") == []


def test_deduplication_can_be_switched_off(vapi: VapiBlueprint, post: Callable[..., Post]) -> None:
    runs: list[int] = []
    vapi.tool("again")(lambda: runs.append(1) or "ok")
    send = post(VAPI_DEDUPLICATE=False)
    message = make_tool_calls(("again", {}, "same"))
    send(message)
    send(message)
    assert runs == [1, 1]


def test_two_endpoints_deduplicate_on_their_own(
    make_app: Callable[..., Flask], received: Recorder
) -> None:
    sales = VapiBlueprint("sales", url_prefix="/sales", config_prefix="VAPI_SALES_")
    app = make_app(VapiBlueprint(), VAPI_SALES_SECRET=SECRET)
    app.register_blueprint(sales)
    send = Post(app)
    body = json.dumps({"message": make_status_update()}).encode()
    send(body)
    send(body, "/sales/webhook")
    assert received.names().count("status_update") == 2


def test_a_store_outage_is_handled_without_the_store(
    vapi: VapiBlueprint, make_app: Callable[..., Flask], received: Recorder
) -> None:
    from .servers import start_redis

    runs: list[int] = []
    vapi.tool("book")(lambda: runs.append(1) or "booked")
    server = start_redis()
    try:
        app = make_app(vapi, VAPI_STORE_URL=server.url)
    finally:
        server.stop()  # the store goes away after startup
    send = Post(app)
    message = make_tool_calls(("book", {}, "c_outage"))
    assert send(message)["results"][0]["result"] == "booked"
    assert send(make_status_update()) == {}
    assert runs == [1]
    failures = received.of("store_error")
    assert failures and all(type(f["exception"]).__name__ == "StoreError" for f in failures)
    assert received.names().count("status_update") == 1


def test_redeliveries_are_seen_across_workers_sharing_a_file(
    make_app: Callable[..., Flask], tmp_path: Any
) -> None:
    runs: list[str] = []

    def worker() -> Post:  # two apps on one SQLite file: two gunicorn workers
        vapi = VapiBlueprint()
        vapi.tool("book")(lambda: runs.append("ran") or "booked")
        return Post(make_app(vapi, VAPI_STORE_URL=f"sqlite:///{tmp_path}/shared.sqlite3"))

    first, second = worker(), worker()
    message = make_tool_calls(("book", {}, "c_shared"))
    assert first(message) == second(message)
    assert runs == ["ran"]
    signals.duplicate_message  # noqa: B018 - the signal exists under this name


def test_a_redelivery_takes_over_a_message_whose_first_worker_died(
    vapi: VapiBlueprint, make_app: Callable[..., Flask], received: Recorder
) -> None:
    from flask_vapi.store.dedup import Deduplicator, message_key

    reports: list[Any] = []
    vapi.on("end-of-call-report")(reports.append)
    app = make_app(vapi)
    body = json.dumps({"message": make_end_of_call_report()}).encode()
    # What a worker killed mid-message leaves behind: a claim, no answer, lapsing soon.
    store = vapi.settings_for(app).store
    assert Deduplicator(store, 60, "VAPI_").claim(message_key(body), 0.3)
    assert Post(app)(body) == {}
    assert len(reports) == 1  # the redelivery ran it, once the claim lapsed
    assert received.of("duplicate_message") == []


def _production_app(vapi: VapiBlueprint, instance: Any) -> Flask:
    """An app outside ``app.testing`` with no VAPI_STORE_URL: the default SQLite store."""
    app = Flask("default_store", instance_path=str(instance))
    app.config["VAPI_SECRET"] = SECRET
    app.register_blueprint(vapi)
    return app


def test_the_default_store_is_a_file_in_the_instance_folder_made_on_first_use(
    vapi: VapiBlueprint, tmp_path: Any
) -> None:
    runs: list[int] = []
    vapi.tool("book")(lambda: runs.append(1) or "booked")
    instance = tmp_path / "instance"
    send = Post(_production_app(vapi, instance))
    assert not instance.exists()  # registering creates nothing
    message = make_tool_calls(("book", {}, "c_default"))
    assert send(message) == send(message)
    assert runs == [1]
    assert (instance / "flask-vapi.sqlite3").is_file()


def test_an_unusable_instance_folder_fails_at_registration_naming_the_key(
    vapi: VapiBlueprint, tmp_path: Any
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the instance folder would be")
    with pytest.raises(ConfigurationError) as caught:
        _production_app(vapi, blocker / "instance")
    text = str(caught.value)
    assert "VAPI_STORE_URL is not set" in text and f"{blocker} is not a folder" in text


def test_a_default_store_that_cannot_be_opened_later_is_a_store_error_not_a_5xx(
    vapi: VapiBlueprint, tmp_path: Any, received: Recorder
) -> None:
    runs: list[int] = []
    vapi.tool("book")(lambda: runs.append(1) or "booked")
    instance = tmp_path / "instance"
    app = _production_app(vapi, instance)
    instance.parent.mkdir(exist_ok=True)
    instance.write_text("the folder became a file after startup")
    send = Post(app)
    assert send(make_tool_calls(("book", {}, "c_gone")))["results"][0]["result"] == "booked"
    assert send(make_status_update()) == {}
    assert runs == [1]
    failures = received.of("store_error")
    assert failures and all(type(f["exception"]).__name__ == "StoreError" for f in failures)
