"""The inspector's pages: the calls, one call's timeline, a replay, the login form."""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING, Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from ..replay import replay_event
from ..store import StoreError
from . import access

if TYPE_CHECKING:
    from ..blueprint import VapiBlueprint

#: Calls the list shows.
CALLS_SHOWN = 100
_END_OF_CALL = "end-of-call-report"


def add_views(inspector: Blueprint, vapi: VapiBlueprint) -> None:
    """Add the inspector's views and its access check to ``inspector``."""

    def app() -> Flask:
        found: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return found

    def token() -> str | None:
        return vapi.settings_for(app()).inspector_token

    @inspector.before_request
    def check_access() -> Response | None:
        if not access.enabled(app(), token()):
            abort(404)  # as if there were nothing here
        if request.endpoint in (f"{vapi.name}.inspector.login", f"{vapi.name}.inspector.static"):
            return None
        if access.authorized(request, token()):
            return None
        if request.accept_mimetypes.accept_html and request.method == "GET":
            return redirect(url_for(".login", next=request.full_path))  # type: ignore[return-value]
        response = jsonify(
            code="unauthorized",
            status=401,
            message="The call inspector needs Authorization: Bearer <VAPI_INSPECTOR_TOKEN>.",
        )
        response.status_code = 401
        return response

    @inspector.after_request
    def private(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; media-src *; frame-ancestors 'none'"
        )
        return response

    def page(template: str, **context: Any) -> str:
        return render_template(
            f"vapi_inspector/{template}",
            endpoint=vapi.name,
            logged_in=token() is not None,
            **context,
        )

    inspector.add_app_template_filter(_time, "vapi_time")
    inspector.add_app_template_filter(_duration, "vapi_duration")
    inspector.add_app_template_filter(_json, "vapi_json")

    @inspector.get("/")
    def calls() -> str:
        log = vapi.event_log(app())
        summaries: list[dict[str, Any]] = []
        error = None
        if log is not None:
            try:
                summaries = log.calls(CALLS_SHOWN)
            except StoreError as exc:
                error = str(exc)
        return page("calls.html", log_on=log is not None, calls=summaries, error=error)

    @inspector.get("/calls/<path:call_id>")
    def call(call_id: str) -> str | Response:
        log = vapi.event_log(app())
        if log is None:
            return page("calls.html", log_on=False, calls=[], error=None)
        summary = log.call(call_id)
        if summary is None:
            abort(404)
        events = log.events(call_id)
        view = call_view(summary, events)
        csrf = access.csrf_token(token(), "replay")
        if request.args.get("part") == "timeline":
            return page("timeline.html", call=view, csrf=csrf)
        return page("call.html", call=view, csrf=csrf)

    @inspector.post("/calls/<path:call_id>/events/<event_id>/replay")
    def replay(call_id: str, event_id: str) -> str:
        if not access.csrf_matches(request.form.get("csrf", ""), token(), "replay"):
            abort(403)
        log = vapi.event_log(app())
        event = log.event(call_id, event_id) if log is not None else None
        if event is None or event.get("body") is None:
            abort(404)
        replayed = replay_event(app(), vapi, event)
        return page(
            "replay.html",
            call_id=call_id,
            event=event,
            replayed=replayed,
            recorded=pretty(event.get("answer")),
            new=pretty(replayed.answer),
        )

    @inspector.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        configured = token()
        if configured is None:
            return redirect(url_for(".calls"))
        wrong = False
        if request.method == "POST":
            if access.token_matches(request.form.get("token", ""), configured):
                target = request.args.get("next", "")
                if not target.startswith(url_for(".calls")):  # no open redirect
                    target = url_for(".calls")
                response = redirect(target)
                response.set_cookie(
                    access.COOKIE,
                    access.cookie_value(configured),
                    httponly=True,
                    samesite="Strict",
                    secure=request.is_secure,
                    path=url_for(".calls"),
                )
                return response
            wrong = True
        body = page("login.html", wrong=wrong)
        return (body, 401) if wrong else body

    @inspector.post("/logout")
    def logout() -> Any:
        response = redirect(url_for(".login"))
        response.delete_cookie(access.COOKIE, path=url_for(".calls"))
        return response


def _time(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    moment = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def _json(value: Any) -> str:
    return value if isinstance(value, str) else pretty(value)


def pretty(value: Any) -> str:
    """A JSON value as indented text."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def call_view(summary: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """What the call page shows: the summary, the timeline, the conversation, the report."""
    first = summary.get("first_at") or (events[0]["at"] if events else 0.0)
    report = next(
        (_message(e) for e in reversed(events) if e["type"] == _END_OF_CALL and e["body"]), None
    )
    timeline = [
        {**event, "offset": event["at"] - first, "pretty_body": pretty(event["body"])}
        for event in events
    ]
    return {
        "summary": summary,
        "events": timeline,
        "conversation": conversation(report, events),
        "report_summary": _report_summary(report),
        "recording_url": recording_url(report),
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _message(event: dict[str, Any]) -> dict[str, Any]:
    body = event.get("body")
    if not isinstance(body, dict):
        return {}
    message = body.get("message", body)
    return message if isinstance(message, dict) else {}


def conversation(
    report: dict[str, Any] | None, events: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """``[{"role", "text"}]``: the report's messages, else the final transcripts so far."""
    turns = []
    if report is not None:
        artifact = _dict(report.get("artifact"))
        messages = artifact.get("messages") or report.get("messages") or []
        for item in messages if isinstance(messages, list) else []:
            if not isinstance(item, dict) or item.get("role") not in ("user", "bot", "assistant"):
                continue
            text = item.get("message") or item.get("content")
            if isinstance(text, str):
                role = "caller" if item["role"] == "user" else "assistant"
                turns.append({"role": role, "text": text})
        if turns:
            return turns
    for event in events:
        message = _message(event)
        if event["type"] == "transcript" and message.get("transcriptType") == "final":
            text = message.get("transcript")
            if isinstance(text, str):
                role = "caller" if message.get("role") == "user" else "assistant"
                turns.append({"role": role, "text": text})
    return turns


def _report_summary(report: dict[str, Any] | None) -> str | None:
    if report is None:
        return None
    analysis = _dict(report.get("analysis"))
    summary = analysis.get("summary") or report.get("summary")
    return summary if isinstance(summary, str) else None


def recording_url(report: dict[str, Any] | None) -> str | None:
    """The call's recording: ``artifact.recordingUrl``, its mono mix, or the old top level."""
    if report is None:
        return None
    artifact = _dict(report.get("artifact"))
    recording = _dict(artifact.get("recording"))
    mono = _dict(recording.get("mono"))
    for url in (artifact.get("recordingUrl"), mono.get("combinedUrl"), report.get("recordingUrl")):
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            return url
    return None
