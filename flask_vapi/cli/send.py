"""``flask vapi send``: post a saved payload, signed, to the app or a running server."""

from __future__ import annotations

import codecs
import json
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Optional

import click
from flask import Flask

from ..locate import find_blueprint, webhook_path
from ..recording import record_signals
from .common import auth_headers, post_in_process, webhook_url

if TYPE_CHECKING:
    from ..blueprint import VapiBlueprint


def request_body(saved: bytes) -> tuple[bytes, str]:
    """The request body of a saved payload and its message type: ``{"message": ...}`` as
    is, a bare message wrapped with its bytes kept.  Raises ``click.BadParameter``."""
    if saved.startswith(codecs.BOM_UTF8):
        saved = saved[len(codecs.BOM_UTF8) :]
    try:
        payload = json.loads(saved)
    except ValueError as exc:
        raise click.BadParameter(f"not valid JSON ({exc}).", param_hint="FILE") from None
    if isinstance(payload, dict) and isinstance(payload.get("type"), str):
        return b'{"message":' + saved.strip() + b"}", payload["type"]
    if isinstance(payload, dict) and isinstance(payload.get("message"), dict):
        return saved, str(payload["message"].get("type"))
    raise click.BadParameter(
        'neither a request body {"message": {...}} nor a message with a "type".',
        param_hint="FILE",
    )


def send(
    app: Flask,
    blueprint: VapiBlueprint,
    saved: bytes,
    *,
    url: Optional[str] = None,
    sign: bool = True,
    timeout: float = 20.0,
) -> bool:
    """``flask vapi send``: post a saved payload, print the answer; ``True`` if it was 2xx.

    Without ``url`` the payload goes to the app in-process, where its real handlers
    answer.  ``url`` is read like ``flask vapi tools --server-url``: a base URL gets the
    webhook path appended, a full webhook URL is used as is.
    """
    name, _ = find_blueprint(app, blueprint)
    body, message_type = request_body(saved)
    started = time.perf_counter()
    signals: Optional[list[str]] = None
    if url is None:
        with record_signals(app) as sent:
            response = post_in_process(app, blueprint, name, body, sign=sign)
        status, reason = response.status_code, response.status.partition(" ")[2]
        content, mimetype = response.get_data(), response.mimetype
        target = f"{webhook_path(app, name)} (in-process)"
        signals = [record.name for record in sent]
    else:
        target = webhook_url(url, webhook_path(app, name), "'--url'")
        headers = {"Content-Type": "application/json"}
        if sign:
            headers.update(auth_headers(app, blueprint, body, target))
        status, reason, content, mimetype = _post(target, body, headers, timeout)
    elapsed = time.perf_counter() - started
    signed = "signed" if sign else "unsigned"
    click.echo(f"POST {target}: {message_type} ({len(body)} bytes, {signed})")
    ok = 200 <= status < 300
    click.secho(f"{status} {reason} in {elapsed * 1000:.1f} ms", fg="green" if ok else "red")
    if signals is not None:
        click.echo(f"signals: {', '.join(signals) or '-'}")
    if mimetype == "application/json":
        try:
            click.echo(json.dumps(json.loads(content), indent=2, ensure_ascii=False))
        except ValueError:
            click.echo(content.decode("utf-8", "replace"))
    else:
        click.echo(f"<{len(content)} bytes of {mimetype or 'unknown type'}>")
    return ok


def _post(
    url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int, str, bytes, str]:
    """POST with urllib: status, reason, body and content type (HTTP errors included)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # http(s) only
            content_type = response.headers.get_content_type()
            return response.status, response.reason, response.read(), content_type
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.reason, error.read(), error.headers.get_content_type()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise click.ClickException(f"Could not reach {url}: {reason}") from None
