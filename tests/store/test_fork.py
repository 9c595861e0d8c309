"""A SQLite store opened before os.fork() works in the children and in the parent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("fork_check.py")


@pytest.mark.skipif(sys.platform == "win32", reason="os.fork() does not exist on Windows")
def test_sqlite_store_is_fork_safe(tmp_path: Path) -> None:
    # A fresh interpreter: pytest's own threads must not be in the process that forks.
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "store.sqlite3")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr
