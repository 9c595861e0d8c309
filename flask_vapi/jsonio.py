"""JSON parsing and compact encoding, with orjson when installed (``flask-vapi[speed]``)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import uuid
from typing import Any, Callable

try:  # pragma: no cover - which branch runs depends on the environment
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]

#: Errors :func:`loads` raises for a body that is not JSON.
DecodeError: tuple[type[Exception], ...] = (ValueError,)
#: Errors :func:`dumps` raises for a value it cannot encode (catch these, not ``Exception``).
EncodeError: tuple[type[Exception], ...] = (TypeError, ValueError, OverflowError, RecursionError)


def _default(value: Any) -> Any:
    """Encode the types tool handlers commonly return, identically with either backend."""
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _stdlib_loads(data: bytes) -> Any:
    return json.loads(data)


def _stdlib_dumps(value: Any) -> bytes:
    return json.dumps(
        value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default
    ).encode("utf-8")


def _orjson_dumps(value: Any) -> bytes:
    # Passthrough options route these types through ``_default`` so both backends agree.
    return orjson.dumps(
        value,
        default=_default,
        option=orjson.OPT_PASSTHROUGH_DATETIME
        | orjson.OPT_PASSTHROUGH_DATACLASS
        | orjson.OPT_NON_STR_KEYS,
    )


loads: Callable[[bytes], Any]
dumps: Callable[[Any], bytes]
if orjson is not None:
    loads, dumps = orjson.loads, _orjson_dumps
else:  # pragma: no cover
    loads, dumps = _stdlib_loads, _stdlib_dumps

#: The backend in use: ``"orjson"`` or ``"json"``.
BACKEND = "orjson" if orjson is not None else "json"
