"""Screenshots of the call inspector for the README: docs/images/inspector-calls.png and
docs/images/inspector-call.png.

    python scripts/screenshots.py

Plays two simulated calls through the example app (its real handlers, a temporary
instance folder), serves it on 127.0.0.1 and photographs the calls list and the first
call's page in headless Chromium (Debian's chromium and chromium-driver, as the browser
tests use).
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

import example_app  # noqa: E402
from flask_vapi.cli import simulate  # noqa: E402
from tests.inspector.browser import chromium, served  # noqa: E402

IMAGES = ROOT / "docs" / "images"


def main() -> int:
    folder = tempfile.mkdtemp(prefix="flask-vapi-screenshots-")
    Flask.auto_find_instance_path = lambda self: folder  # type: ignore[method-assign]
    app = example_app.create_app({"TESTING": True, "VAPI_EVENT_LOG": True})
    app.debug = True
    with contextlib.redirect_stdout(io.StringIO()):
        for _ in range(2):
            simulate(app, example_app.vapi)
    log = example_app.vapi.event_log(app)
    assert log is not None and log.flush()
    IMAGES.mkdir(parents=True, exist_ok=True)
    with served(app) as base, chromium(1280, 1000) as browser:
        browser.get(f"{base}/vapi/inspector/")
        browser.save_screenshot(str(IMAGES / "inspector-calls.png"))
        browser.find_element(By.CSS_SELECTOR, "a.call-link").click()
        browser.find_element(By.CSS_SELECTOR, "tr.tool")
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(1280, min(int(height) + 120, 2600))
        browser.save_screenshot(str(IMAGES / "inspector-call.png"))
    for name in ("inspector-calls.png", "inspector-call.png"):
        print(IMAGES / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
