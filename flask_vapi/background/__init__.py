"""Work done off the request path: Live Call Control delivery of late tool results."""

from .control import Delivery, add_message, format_late_result, post

__all__ = ["Delivery", "add_message", "format_late_result", "post"]
