"""Field kinds the models declare beyond marshmallow's own: JSON shapes and nested models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from marshmallow import fields, missing

if TYPE_CHECKING:  # marshmallow 4's Field is generic, marshmallow 3's is not
    from .base import VapiObject

    Field = fields.Field[Any]
else:
    Field = fields.Field


class AnyValue(fields.Raw):
    """Any JSON value, passed through."""


class ObjectField(Field):
    """A JSON object, passed through as the dict received (no copy)."""

    default_error_messages = {"invalid": "Not a valid object."}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: Optional[str], data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        return value


class ListValue(Field):
    """A JSON array, passed through as the list received (no copy)."""

    default_error_messages = {"invalid": "Not a valid list."}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: Optional[str], data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, list):
            raise self.make_error("invalid")
        return value


class ModelField(Field):
    """A nested :class:`~flask_vapi.models.base.VapiObject`, loaded eagerly with its ``load``.

    It fails only where ``model.load`` raises: not an object, or a vital field of
    the model; any other problem stays in the nested object's ``invalid_fields``.
    """

    def __init__(self, model: type[VapiObject], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model

    def _deserialize(self, value: Any, attr: Optional[str], data: Any, **kwargs: Any) -> Any:
        return self.model.load(value)


class ModelList(Field):
    """A list of nested objects, loaded eagerly with ``model.load_many``.

    ``fallback_key``: the wire key read when the field's own key is absent or
    ``null`` (Vapi payloads of 2024 carried ``toolCalls``, a copy of ``toolCallList``).
    """

    def __init__(
        self, model: type[VapiObject], *, fallback_key: Optional[str] = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.fallback_key = fallback_key

    def deserialize(
        self, value: Any, attr: Optional[str] = None, data: Any = None, **kwargs: Any
    ) -> Any:
        """Deserialize ``value``, or the ``fallback_key`` value when ``value`` is absent or null."""
        if (value is None or value is missing) and self.fallback_key and data is not None:
            fallback = data.get(self.fallback_key)
            if fallback is not None:
                value = fallback
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: Optional[str], data: Any, **kwargs: Any) -> Any:
        return self.model.load_many(value)
