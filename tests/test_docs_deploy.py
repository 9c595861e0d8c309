"""docs/deploy.md: its Python examples run, and do what the page says behind a proxy."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_vapi.testing import make_tool_calls, sign, wrap

PAGE = (Path(__file__).parent.parent / "docs" / "deploy.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE, flags=re.DOTALL)
PUBLIC_URL = "https://clinic.example.com/vapi/webhook"
#: What the proxy adds to a request it forwards to gunicorn on 127.0.0.1:8000.
FORWARDED = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "clinic.example.com",
}


@pytest.fixture(scope="module")
def page() -> dict[str, Any]:
    """The namespace after running every Python block of the page, in order."""
    namespace: dict[str, Any] = {"__name__": "deploy_example"}
    for number, block in enumerate(BLOCKS):
        exec(compile(block, f"docs/deploy.md block {number}", "exec"), namespace)
    return namespace


def post_through_the_proxy(app: Flask) -> Any:
    """A tool call as Vapi signs it for the public URL, arriving from the proxy."""
    body = json.dumps(wrap(make_tool_calls(("check_availability", {"date": "2026-12-07"}))))
    headers = sign(body.encode(), app, url=PUBLIC_URL)
    client = app.test_client()
    return client.post(
        "/vapi/webhook",
        data=body,
        content_type="application/json",
        headers={**headers, **FORWARDED},
        base_url="http://127.0.0.1:8000",
    )


def test_the_page_has_python_examples() -> None:
    assert len(BLOCKS) == 2


def test_proxyfix_lets_a_url_signature_verify(page: dict[str, Any]) -> None:
    app: Flask = page["app"]
    app.config["TESTING"] = True
    response = post_through_the_proxy(app)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["results"][0]["result"] == "Free on 2026-12-07: 09:00, 10:30."


def test_without_proxyfix_every_url_signature_fails(page: dict[str, Any]) -> None:
    app: Flask = page["create_app"]({"TESTING": True})
    app.wsgi_app = app.wsgi_app.app  # type: ignore[method-assign]  # unwrap ProxyFix
    response = post_through_the_proxy(app)
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


def test_the_health_check_answers_and_the_webhook_refuses_get(page: dict[str, Any]) -> None:
    client = page["app"].test_client()
    health = client.get("/healthz")
    assert (health.status_code, health.get_json()) == (200, {"status": "ok"})
    webhook = client.get("/vapi/webhook")
    assert webhook.status_code == 405
    assert webhook.headers["Allow"] == "POST"


def test_gunicorn_timeout_is_above_the_default_budget() -> None:
    """The page's command leaves gunicorn's --timeout above Vapi's 20 s default."""
    timeout = re.search(r"gunicorn .*--timeout (\d+)", PAGE)
    assert timeout is not None
    assert int(timeout.group(1)) > 20
