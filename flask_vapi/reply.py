"""What a webhook answers: a body (bytes, or a stream of them) and its content type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, Union

JSON = "application/json"
PCM = "application/octet-stream"
EMPTY_OBJECT = b"{}"


class Reply(NamedTuple):
    """What to send back to Vapi (always with HTTP 200)."""

    body: Union[bytes, Iterator[bytes]]
    content_type: str = JSON
