"""open_store: which URL opens which back end, and ConfigurationError for every bad one."""

from __future__ import annotations

import builtins
import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from flask_vapi.errors import ConfigurationError
from flask_vapi.store import open_store, redact_url
from flask_vapi.store.memory import MemoryStore
from flask_vapi.store.redis import RedisStore
from flask_vapi.store.sqlite import SQLiteStore
from tests.servers import free_port

PASSWORD = "s3cr3t-Pa55"


def test_memory_url() -> None:
    assert isinstance(open_store("memory://"), MemoryStore)


def test_sqlite_absolute_path_creates_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "store.sqlite3"
    store = open_store(f"sqlite:///{path}", instance_path="/elsewhere")
    try:
        assert isinstance(store, SQLiteStore)
        assert store.path == str(path)
        store.set("k", b"v", None)
    finally:
        store.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("SELECT value FROM flask_vapi_store").fetchall() == [(b"v",)]


def test_sqlite_opens_a_file_of_an_earlier_version(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as conn:  # the schema before lists
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE flask_vapi_store (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL,"
            " expires REAL) WITHOUT ROWID"
        )
        conn.execute(
            "CREATE INDEX flask_vapi_store_expires ON flask_vapi_store (expires)"
            " WHERE expires IS NOT NULL"
        )
        conn.execute("INSERT INTO flask_vapi_store VALUES ('k', x'7631', NULL)")
        conn.commit()
    store = open_store(f"sqlite:///{path}")
    try:
        assert store.get("k") == b"v1"
        assert store.append("log", [b"a"], None, 10) == 1
        assert store.items("log") == [b"a"]
    finally:
        store.close()


def test_sqlite_waits_for_another_process_writing_a_new_file(tmp_path: Path) -> None:
    # Two processes opening a new file at once: while one writes it, not yet in WAL mode,
    # SQLite fails the other's PRAGMA journal_mode=WAL at once instead of waiting.
    path = tmp_path / "store.sqlite3"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    outcome: list[object] = []

    def open_it() -> None:
        try:
            outcome.append(SQLiteStore(str(path), busy_timeout=60))
        except BaseException as exc:
            outcome.append(exc)

    opener = threading.Thread(target=open_it)
    try:
        opener.start()
        time.sleep(0.2)  # the opener meets the lock (if it is slower, the test proves less)
    finally:
        other.execute("ROLLBACK")
        other.close()
    opener.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], SQLiteStore), outcome
    outcome[0].set("k", b"v", None)
    outcome[0].close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_sqlite_relative_path_is_in_the_instance_path(tmp_path: Path) -> None:
    store = open_store("sqlite:///data/store.sqlite3", instance_path=str(tmp_path / "instance"))
    store.close()
    assert (tmp_path / "instance" / "data" / "store.sqlite3").is_file()


def test_sqlite_relative_path_without_instance_path_is_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///store.sqlite3").close()
    assert (tmp_path / "store.sqlite3").is_file()


def test_redis_url_pings_and_prefixes_keys(redis_url: str) -> None:
    store = open_store(f"{redis_url}?key_prefix=open-test:")
    try:
        assert isinstance(store, RedisStore)
        store.set("k", b"v", 60)
        assert store.client.get("open-test:k") == b"v"
        assert store.client.pttl("open-test:k") > 0
    finally:
        store.client.delete("open-test:k")
        store.close()


def test_the_default_redis_prefix_is_flask_vapi(redis_url: str) -> None:
    store = open_store(redis_url)
    try:
        store.set("open-test-default", b"v", 60)
        assert store.client.get("flask-vapi:open-test-default") == b"v"
    finally:
        store.delete("open-test-default")
        store.close()


@pytest.mark.parametrize(
    "url",
    [
        "memcached://localhost:11211",
        "memory://something",
        "sqlite://",
        "sqlite://host/path.db",
        "sqlite:///",
        "sqlite:///store.db?timeout=5",
        "localhost:6379",
        "",
        "redis://localhost:notaport/0",
        "redis://[::1/0",
        "redis://localhost:6379/0?decode_responses=yes",
        "redis://localhost:6379/0?socket_timeout=soon",
    ],
)
def test_a_bad_url_is_a_configuration_error_naming_it(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as raised:
        open_store(url, instance_path=str(tmp_path))
    assert f"VAPI_STORE_URL {url!r}" in str(raised.value)


def test_an_unreachable_redis_is_a_configuration_error_without_the_password() -> None:
    url = f"redis://user:{PASSWORD}@127.0.0.1:{free_port()}/0"
    with pytest.raises(ConfigurationError) as raised:
        open_store(url)
    message = str(raised.value)
    assert PASSWORD not in message
    assert "redis://user:***@127.0.0.1:" in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{PASSWORD}@127.0.0.1:1/0",
        f"redis://127.0.0.1:1/0?password={PASSWORD}",
        f"redis://user:{PASSWORD}@127.0.0.1:port/0",
        f"rediss://user:{PASSWORD}@[::1/0",
        f"memcached://user:{PASSWORD}@host/0",
    ],
)
def test_no_error_names_the_password(url: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        open_store(url)
    assert PASSWORD not in str(raised.value)
    assert "***" in str(raised.value)


def test_a_wrong_password_is_a_configuration_error_without_it(redis_url: str) -> None:
    url = redis_url.replace("redis://", f"redis://nobody:{PASSWORD}@")
    with pytest.raises(ConfigurationError) as raised:
        open_store(url)
    assert PASSWORD not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://user:pw@host:6379/0", "redis://user:***@host:6379/0"),
        ("redis://:pw@host/0", "redis://:***@host/0"),
        ("redis://user@host/0", "redis://user@host/0"),
        ("redis://host/0?password=pw&db=1", "redis://host/0?password=***&db=1"),
        ("redis://u:p@ss:w@rd@host/0", "redis://u:***@host/0"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_missing_redis_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_redis(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "redis" or name.startswith("redis."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, "flask_vapi.store.redis")
    monkeypatch.setattr(builtins, "__import__", no_redis)
    with pytest.raises(ConfigurationError) as raised:
        open_store(f"redis://:{PASSWORD}@localhost:6379/0")
    assert "pip install 'flask-vapi[redis]'" in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_sqlite_under_a_file_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(ConfigurationError, match="VAPI_STORE_URL"):
        open_store(f"sqlite:///{tmp_path / 'file' / 'store.sqlite3'}")


def test_sqlite_on_a_directory_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unable to open"):
        open_store(f"sqlite:///{tmp_path}")


def test_sqlite_on_a_file_that_is_not_a_database_is_a_configuration_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ConfigurationError, match="not a database"):
        open_store(f"sqlite:///{path}")
