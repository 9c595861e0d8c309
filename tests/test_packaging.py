"""What a newcomer reads about installing agrees with the package: version, floor, licence."""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import flask_vapi

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SETUP = configparser.ConfigParser()
SETUP.read(ROOT / "setup.cfg", encoding="utf-8")


def test_the_readme_version_command_prints_the_version() -> None:
    shown = re.search(r"```console\n\$ (python -c .*__version__.*)\n(.*)\n```", README)
    assert shown is not None
    command, output = shown.groups()
    code = re.fullmatch(r'python -c "(.*)"', command)
    assert code is not None
    run = subprocess.run([sys.executable, "-c", code.group(1)], capture_output=True, text=True)
    assert run.stdout.strip() == output == flask_vapi.__version__


def test_the_installed_metadata_has_the_version() -> None:
    assert metadata.version("flask-vapi") == flask_vapi.__version__
    assert SETUP["metadata"]["version"] == "attr: flask_vapi.__version__"


def test_the_changelog_has_the_version_and_an_unreleased_section() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## \[([^\]]+)\]", changelog, flags=re.MULTILINE)
    assert sections[:2] == ["Unreleased", flask_vapi.__version__]


def test_the_python_floor_is_the_same_everywhere() -> None:
    assert SETUP["options"]["python_requires"] == ">=3.10"
    classifiers = SETUP["metadata"]["classifiers"].split()
    versions = [c for c in classifiers if re.fullmatch(r"3\.\d+", c)]
    assert versions[0] == "3.10"
    assert "You need **Python 3.10 or newer**" in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "OLDEST_PYTHON=${OLDEST_PYTHON:-python3.10}" in ci
    assert f"NEWEST_PYTHON=${{NEWEST_PYTHON:-python{versions[-1]}}}" in ci


def test_the_licence_is_mit_by_the_contributors() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License\n")
    assert re.search(r"^Copyright \(c\) \d{4} flask-vapi contributors$", licence, re.MULTILINE)
    assert SETUP["metadata"]["license"] == "MIT"


def test_the_readme_says_the_package_is_not_on_an_index() -> None:
    assert "`pip install flask-vapi` fails" in README
    assert re.search(r'pip install "flask-vapi\[speed\] @ git\+https://', README)
    assert "python3 -m venv .venv && . .venv/bin/activate" in README
