"""Switch flask_vapi.jsonio between the stdlib and orjson backends for a block of code."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from flask_vapi import jsonio

#: The backends a property runs on (orjson is a test dependency: both run in every leg).
BACKENDS: tuple[str, ...] = ("json", "orjson")

# The library reaches JSON only through the module attributes ``jsonio.loads`` and
# ``jsonio.dumps`` (test_backends.py checks no module binds them by name), so setting
# those two attributes switches every caller.
_PAIRS = {
    "json": (jsonio._stdlib_loads, jsonio._stdlib_dumps),
    "orjson": (jsonio._orjson_loads, jsonio._orjson_dumps),
}


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Run the block with ``jsonio`` parsing and encoding through backend ``name``."""
    if name not in _PAIRS:
        raise LookupError(f"JSON backend {name!r} is not available here (have {sorted(_PAIRS)})")
    saved = jsonio.loads, jsonio.dumps, jsonio.BACKEND
    jsonio.loads, jsonio.dumps = _PAIRS[name]
    jsonio.BACKEND = name
    try:
        yield
    finally:
        jsonio.loads, jsonio.dumps, jsonio.BACKEND = saved
