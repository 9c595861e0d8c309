"""The call inspector in a real browser: headless Chromium finds a call, reads it, replays it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from flask_vapi import VapiBlueprint, payloads
from flask_vapi.testing import VapiClient
from tests.conftest import SECRET
from tests.inspector.browser import chromium, served

TOKEN = "inspector-token-0123456789abcdef"
WAIT = 20  # seconds: a bound for the page to show what it must, not a speed claim


def make_app(**config: Any) -> tuple[Flask, VapiBlueprint]:
    vapi = VapiBlueprint()

    @vapi.tool("bookAppointment")
    def book(date: str, time: str) -> str:
        return f"Booked for {date} at {time}. Confirmation RFC-48213."

    app = Flask("inspected")
    app.config.update(TESTING=True, VAPI_SECRET=SECRET, VAPI_EVENT_LOG=True, **config)
    app.register_blueprint(vapi)
    app.test_client_class = VapiClient
    return app, vapi


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


def simulate_call(app: Flask, vapi: VapiBlueprint, end: bool = True) -> dict[str, Any]:
    """A short call through the real webhook; its first message (for its call)."""
    client = app.test_client()
    start = payloads.make_status_update(status="in-progress")
    call = start["call"]
    client.send_message(start)
    client.send_message(payloads.make_transcript(call=call))
    tools = payloads.make_tool_calls(
        ("bookAppointment", {"date": "2026-12-08", "time": "10:30"}, "tc-book"), call=call
    )
    assert client.send_message(tools).status_code == 200
    if end:
        client.send_message(
            payloads.make_end_of_call_report(call=call, endedReason="customer-ended-call")
        )
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    return start


def wait_for(browser: WebDriver, css: str, text: str | None = None) -> Any:
    def found(driver: WebDriver) -> Any:
        for element in driver.find_elements(By.CSS_SELECTOR, css):
            if text is None or text in element.text:
                return element
        return False

    return WebDriverWait(browser, WAIT).until(found)


def test_find_a_call_read_its_tool_call_and_replay_it(browser: WebDriver) -> None:
    app, vapi = make_app()
    app.debug = True  # the inspector is on while debugging
    start = simulate_call(app, vapi)
    call_id = start["call"]["id"]
    with served(app) as base:
        browser.get(f"{base}/vapi/inspector/")
        link = wait_for(browser, "a.call-link", call_id)
        row = link.find_element(By.XPATH, "./ancestor::tr")
        assert "customer-ended-call" in row.text
        assert start["call"]["customer"]["number"] in row.text
        link.click()
        tool = wait_for(browser, "tr.tool", "bookAppointment")
        arguments = tool.find_element(By.CSS_SELECTOR, ".tool-arguments").text
        assert '"date": "2026-12-08"' in arguments and '"time": "10:30"' in arguments
        result = tool.find_element(By.CSS_SELECTOR, ".tool-result").text
        assert result == "Booked for 2026-12-08 at 10:30. Confirmation RFC-48213."
        latency = tool.find_element(By.CSS_SELECTOR, ".tool-latency").text
        assert latency.endswith("/ 18000 ms") and " ms" in latency.split("/")[0]
        assert "ok" in tool.text
        conversation = wait_for(browser, ".conversation")
        assert "Dr. Patel" in conversation.text
        assert browser.find_element(By.CSS_SELECTOR, "a.recording").get_attribute("href")
        event = tool.find_element(By.XPATH, "./ancestor::li[contains(@class, 'event')]")
        event.find_element(By.CSS_SELECTOR, "form.replay button").click()
        verdict = wait_for(browser, "#verdict")
        assert verdict.text == "The new answer is the recorded one."
        recorded = browser.find_element(By.ID, "recorded").text
        replayed = browser.find_element(By.ID, "replayed").text
        assert "RFC-48213" in recorded and recorded == replayed
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    assert len(log.events(call_id)) == 4  # the replay was not recorded


def test_a_live_call_updates_without_reloading(browser: WebDriver) -> None:
    app, vapi = make_app()
    app.debug = True
    client = app.test_client()
    start = payloads.make_status_update(status="in-progress")
    start["call"] = {**start["call"], "id": "call-live-1"}
    client.send_message(start)
    log = vapi.event_log(app)
    assert log is not None and log.flush()
    with served(app) as base:
        browser.get(f"{base}/vapi/inspector/calls/call-live-1")
        wait_for(browser, "li.event", "status-update")
        browser.execute_script("window.notReloaded = true")
        tools = payloads.make_tool_calls(
            ("bookAppointment", {"date": "2026-12-09", "time": "09:00"}, "tc-live"),
            call=start["call"],
        )
        client.send_message(tools)
        assert log.flush()
        tool = wait_for(browser, "tr.tool", "2026-12-09")
        assert "Booked for 2026-12-09 at 09:00." in tool.text
        assert wait_for(browser, "h1 .badge.live").text == "live"
        # A report with neither a summary nor a recording still ends the live view.
        report = payloads.make_end_of_call_report(call=start["call"])
        report.pop("analysis")
        report["artifact"] = {}
        client.send_message(report)
        assert log.flush()
        wait_for(browser, "h1 .badge", "ended")
        assert browser.find_element(By.ID, "timeline").get_attribute("data-live") == "false"
        assert browser.execute_script("return window.notReloaded") is True


def test_with_a_token_the_browser_logs_in_with_a_form(browser: WebDriver) -> None:
    app, vapi = make_app(VAPI_INSPECTOR_TOKEN=TOKEN)
    start = simulate_call(app, vapi)
    with served(app) as base:
        browser.delete_all_cookies()
        browser.get(f"{base}/vapi/inspector/")
        field = wait_for(browser, "input#token")
        assert "/login" in browser.current_url
        field.send_keys("not-the-token-at-all")
        field.submit()
        assert wait_for(browser, "#wrong").text == "That is not the token."
        field = wait_for(browser, "input#token")
        field.send_keys(TOKEN)
        field.submit()
        wait_for(browser, "a.call-link", start["call"]["id"])
        cookie = browser.get_cookie("vapi_inspector")
        assert cookie is not None and TOKEN not in cookie["value"] and cookie["httpOnly"]
        assert TOKEN not in browser.page_source
        wait_for(browser, "form.logout button").click()
        wait_for(browser, "input#token")
        browser.get(f"{base}/vapi/inspector/")
        wait_for(browser, "input#token")  # logged out: back to the form
