"""The ``>>>`` examples in flask_vapi's docstrings run and print what they show."""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
from pathlib import Path

import pytest

import flask_vapi

PACKAGE = Path(flask_vapi.__file__).parent
WITH_EXAMPLES = sorted(
    ".".join(("flask_vapi", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
        ".__init__"
    )
    for path in PACKAGE.rglob("*.py")
    if ">>>" in path.read_text(encoding="utf-8")
)


def test_examples_are_found() -> None:
    assert "flask_vapi" in WITH_EXAMPLES
    assert "flask_vapi.background.control" in WITH_EXAMPLES


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    path = Path(module.__file__ or "")
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    examples = 0
    for lineno, text in docstrings(path.read_text(encoding="utf-8")):
        test = doctest.DocTestParser().get_doctest(
            text, dict(vars(module)), name, str(path), lineno
        )
        examples += len(test.examples)
        runner.run(test)
    assert examples > 0
    assert runner.failures == 0


def docstrings(source: str) -> list[tuple[int, str]]:
    """Every docstring of a module, attribute docstrings (``__version__``'s) included."""
    found = []
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for statement in body:
            value = statement.value if isinstance(statement, ast.Expr) else None
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                found.append((statement.lineno, inspect.cleandoc(value.value)))
    return found
