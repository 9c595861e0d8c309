"""An app for gunicorn: one tool counts its calls in ``call_state``, in a transaction."""

from __future__ import annotations

import os
import time

from flask import Flask

from flask_vapi import VapiBlueprint, call_state


def create_app(store_url: str) -> Flask:
    """Count calls of the tool ``count`` per call; answers ``"<count> <pid>"``."""
    vapi = VapiBlueprint()

    @vapi.tool
    def count() -> str:
        time.sleep(0.02)  # overlap: the other worker takes requests meanwhile
        with call_state.transaction() as state:
            state["n"] = state.get("n", 0) + 1
            return f"{state['n']} {os.getpid()}"

    app = Flask(__name__)
    app.config.update(VAPI_AUTH_DISABLED=True, VAPI_STORE_URL=store_url)
    app.register_blueprint(vapi)
    app.add_url_rule("/", "ready", lambda: "ready")
    return app
