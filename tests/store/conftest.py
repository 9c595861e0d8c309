"""Fixtures for the store contract: one store per back end (memory, SQLite, real Redis)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from flask_vapi.store import Store, open_store

BACKENDS = ["memory", "sqlite", "redis"]


def url_for(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL for ``backend``; Redis keys get a prefix of their own for each test."""
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    redis_url: str = request.getfixturevalue("redis_url")
    return f"{redis_url}?key_prefix=test-{uuid.uuid4().hex}:"


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store's URL, for each back end."""
    return url_for(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", "redis"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store's URL, for each back end that processes can share."""
    return url_for(request.param, request, tmp_path)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open store, for each back end, closed after the test."""
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()
