"""tests/servers.py: the redis-server fixture fails (never skips) without the binary."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import RedisServer, Server, redis_answers, require

ROOT = Path(__file__).parents[2]


def test_require_names_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(RuntimeError, match=r"apt-get install -y redis-server"):
        require("redis-server")


def test_the_redis_fixture_fails_without_redis_server(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"  # an empty PATH: the interpreter is named by its full path
    bin_dir.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/store/test_contract.py::test_set_then_get[redis]"],
        cwd=ROOT,
        env={**os.environ, "PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode != 0, done.stdout
    assert "apt-get install -y redis-server" in done.stdout
    assert "1 error" in done.stdout and "skipped" not in done.stdout


def test_a_server_that_exits_reports_its_output() -> None:
    server = Server([require("redis-server"), "--port", "not-a-port"], 1, redis_answers)
    with pytest.raises(RuntimeError, match=r"exited with \d+ before answering") as raised:
        server.start()
    assert "port" in str(raised.value).lower()
    assert not server.workdir.exists()


def test_a_started_server_answers_and_stop_ends_our_process() -> None:
    with RedisServer() as server:
        server.start()
        assert server.process is not None
        process = server.process
        assert redis_answers(server.port)
    assert process.poll() is not None
    assert not redis_answers(server.port)
