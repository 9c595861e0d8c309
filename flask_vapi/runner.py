"""How handlers are called: plain or ``async def``, checked at registration, named for logs."""

from __future__ import annotations

import functools
import importlib.util
import inspect
from typing import Any, Callable

from flask import Flask

from .errors import ConfigurationError


def is_async(func: Callable[..., Any]) -> bool:
    """Whether calling ``func`` returns a coroutine (also through partials and ``__call__``)."""
    while isinstance(func, functools.partial):
        func = func.func
    if inspect.iscoroutinefunction(func):
        return True
    call = vars(type(func)).get("__call__") if not inspect.isroutine(func) else None
    return inspect.iscoroutinefunction(call)


def check_registrable(func: Any, what: str) -> None:
    """Refuse at registration what would fail on every call: not callable, or async without
    the ``async`` extra (Flask runs coroutines through asgiref)."""
    if not callable(func):
        raise ConfigurationError(f"{what} must be callable, not {type(func).__name__}.")
    if is_async(func) and importlib.util.find_spec("asgiref") is None:
        raise ConfigurationError(
            f"{what} ({handler_name(func)}) is async: running coroutines needs asgiref. "
            "Install it with: pip install 'flask-vapi[async]'"
        )


def sync_callable(app: Flask, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func``, or for a coroutine function a synchronous wrapper (``app.ensure_sync``).

    Reads the code flags of a plain function or method directly: ``app.ensure_sync``'s
    ``inspect`` work costs more than the rest of a small message's dispatch.
    """
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    if code is not None:
        return app.ensure_sync(func) if code.co_flags & inspect.CO_COROUTINE else func
    if not is_async(func):
        return func
    if isinstance(func, functools.partial):
        return app.ensure_sync(func)
    # A callable object with ``async def __call__``: ensure_sync needs the bound method.
    call: Callable[..., Any] = getattr(func, "__call__")  # noqa: B004, B009
    return app.ensure_sync(call)


def handler_name(handler: Callable[..., Any]) -> str:
    """A readable name of a handler for log lines (functions, partials, callable objects)."""
    if isinstance(handler, functools.partial):
        return f"partial({handler_name(handler.func)})"
    name = getattr(handler, "__qualname__", None)
    if isinstance(name, str):
        return name
    return type(handler).__qualname__ + " object"
