"""docs/messages.md is generated from the models: it must be current and complete."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from flask_vapi import models

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "messages.md"


@pytest.fixture(scope="module")
def reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "messages_reference", ROOT / "scripts" / "messages_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def page(reference: ModuleType) -> str:
    with reference.SCHEMA.open(encoding="utf-8") as handle:
        rendered: str = reference.render(json.load(handle))
    return rendered


def test_the_page_is_current(page: str) -> None:
    assert PAGE.read_text(encoding="utf-8") == page, (
        "docs/messages.md is stale: run python scripts/messages_reference.py > docs/messages.md"
    )


def test_every_model_is_documented(reference: ModuleType, page: str) -> None:
    messages, objects = reference.documented_models()
    documented = {model.__name__ for model in [*messages, *objects]}
    exported = {
        name
        for name in models.__all__
        if isinstance(getattr(models, name), type) and name != "VapiObject"
    }
    assert exported == documented
    for name in documented:
        assert f"\n### {name}\n" in page


def test_every_attribute_has_a_description(reference: ModuleType, page: str) -> None:
    assert "|  |\n" not in page
    assert "| `summary` | `analysis.summary, else summary (before 2025)` | `str` | no |" in page
    assert "| `cost` | `cost` | `float` | no | The cost of the call in USD. |" in page
    assert "| `started_at` | `startedAt` | `datetime` | no |" in page
