"""Fixtures of the background tests: a real Celery worker on the real Redis, and its app."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.background.apps import create_app
from tests.background.worker import CeleryWorker


def redis_db(redis_url: str, db: int) -> str:
    """The URL of database ``db`` of the test Redis server."""
    return f"{redis_url.rsplit('/', 1)[0]}/{db}"


@pytest.fixture(scope="session")
def celery_config(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The worker's config: broker, result backend and store on three Redis databases."""
    return {
        "broker": redis_db(redis_url, 1),
        "backend": redis_db(redis_url, 2),
        "store": f"{redis_db(redis_url, 3)}?key_prefix=bg-{uuid.uuid4().hex}:",
        "output": str(tmp_path_factory.mktemp("celery-output")),
        "marker": "worker",
        "max_retries": 2,
    }


@pytest.fixture(scope="session")
def celery_worker(celery_config: dict[str, Any]) -> Iterator[CeleryWorker]:
    """A real Celery worker (threads pool, concurrency 2), for the whole session."""
    worker = CeleryWorker(celery_config)
    try:
        worker.start()
    except RuntimeError as exc:
        failure = str(exc)
    else:
        failure = ""
    if failure:
        pytest.fail(failure, pytrace=False)
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def web_app(celery_config: dict[str, Any]) -> Iterator[Flask]:
    """The web side: the same factory, config and store as the worker (marker ``web``)."""
    app = create_app({**celery_config, "marker": "web"})
    try:
        yield app
    finally:
        app.extensions["celery"].close()
        app.extensions["test_store"].close()


@pytest.fixture
def output(celery_config: dict[str, Any]) -> Path:
    """Where the receivers write their traces."""
    return Path(celery_config["output"])
