"""The example app's Celery worker: ``celery -A example_celery worker``.

Run it with the web workers' settings (``VAPI_STORE_URL=redis://...`` and
``VAPI_BACKGROUND=celery``, see ``example_app``): it stores the end-of-call reports that
the web workers hand over, in the same clinic database.
"""

from __future__ import annotations

from example_app import create_app

flask_app = create_app()
if "celery" not in flask_app.extensions:
    raise SystemExit(
        "example_celery: set VAPI_BACKGROUND=celery and VAPI_STORE_URL=redis://... "
        "(the web workers' settings) before starting the worker."
    )
celery_app = flask_app.extensions["celery"]
