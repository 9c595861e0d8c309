"""Typed, marshmallow-validated views of Vapi JSON objects, with lazily loaded nested parts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generic, TypeVar, overload

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from . import fastload

if TYPE_CHECKING:  # marshmallow 4's Field is generic, marshmallow 3's is not
    Field = fields.Field[Any]
else:
    Field = fields.Field

T = TypeVar("T")
M = TypeVar("M", bound="VapiObject")

_MISSING = "Missing data for required field."
_CAMEL_BOUNDARY = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    """``ended_reason`` -> ``endedReason``: the wire name of a snake_case attribute."""
    return _CAMEL_BOUNDARY.sub(lambda match: match.group(1).upper(), name)


class BaseSchema(Schema):
    """Every schema tolerates unknown fields: Vapi adds fields all the time.

    ``unknown`` does not propagate to nested schemas, which is why every schema
    derives from this one.  ``EXCLUDE`` rather than ``INCLUDE``: the whole input
    stays available as ``raw`` on the loaded object, so copying it is wasted work.
    """

    class Meta:
        unknown = EXCLUDE


class _Declared:
    """A field declared on a :class:`VapiObject` body: validated when the object is loaded."""

    __slots__ = ("data_key", "field")

    def __init__(self, field: Field, data_key: str | None) -> None:
        self.field = field
        self.data_key = data_key


def field(marshmallow_field: Field, data_key: str | None = None) -> Any:
    """Declare an eagerly validated attribute; the wire name defaults to its camelCase form.

    Optional fields (not ``required``) load as ``None`` when absent or ``null``.
    """
    return _Declared(marshmallow_field, data_key)


class Lazy(Generic[T]):
    """An attribute loaded from ``raw`` on first access, then cached on the instance.

    Nested context objects (``call``, ``assistant``, conversation histories, ...)
    are large and most handlers never read them, so they are validated only when
    read.  Absent or ``null`` values read as ``None``.
    """

    def __init__(
        self,
        load: Callable[[Any], T],
        data_key: str | None = None,
        required: bool = False,
        shape: type | None = None,
    ) -> None:
        self._load = load
        self.data_key = data_key
        #: Checked on load: present (and of type ``shape``, when given), not validated.
        self.required = required
        self.shape = shape
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        if self.data_key is None:
            self.data_key = camel(name)

    @overload
    def __get__(self, instance: None, owner: type) -> Lazy[T]: ...

    @overload
    def __get__(self, instance: VapiObject, owner: type) -> T | None: ...

    def __get__(self, instance: VapiObject | None, owner: type) -> Lazy[T] | T | None:
        if instance is None:
            return self
        value = instance.raw.get(self.data_key)  # type: ignore[arg-type]
        loaded = None if value is None else self._load(value)
        # A non-data descriptor: from now on the instance attribute shadows it.
        instance.__dict__[self.name] = loaded
        return loaded


def one(model: type[M], data_key: str | None = None, *, required: bool = False) -> Lazy[M]:
    """A lazily loaded nested object (``required``: its presence is checked on load)."""
    return Lazy(model.load, data_key, required, dict)


def many(model: type[M], data_key: str | None = None, *, required: bool = False) -> Lazy[list[M]]:
    """A lazily loaded list of nested objects (``required``: its presence is checked on load)."""
    return Lazy(model.load_many, data_key, required, list)


def raw(data_key: str | None = None, *, required: bool = False) -> Lazy[Any]:
    """A lazily read value passed through as received (free-form objects)."""
    return Lazy(_identity, data_key, required)


def _identity(value: Any) -> Any:
    return value


_SHAPE_ERRORS: dict[type, str] = {dict: "Not a valid object.", list: "Not a valid list."}


def _required_problems(
    required: tuple[tuple[str, type | None], ...], data: dict[str, Any]
) -> dict[str, list[str]]:
    problems = {}
    for key, shape in required:
        value = data.get(key)
        if value is None:
            problems[key] = [_MISSING]
        elif shape is not None and not isinstance(value, shape):
            problems[key] = [_SHAPE_ERRORS[shape]]
    return problems


class VapiObject:
    """A validated Vapi object: snake_case attributes, and ``raw``, the dict as received.

    Subclasses declare eager attributes with :func:`field` (validated on load) and
    lazy ones with :func:`one`, :func:`many` or :func:`raw`.  Attributes Vapi adds
    later, and which are not declared here yet, are always in ``raw``.
    """

    #: The marshmallow schema validating the eager fields (built per subclass).
    schema: ClassVar[Schema]
    _schema_class: ClassVar[type[Schema]] = BaseSchema
    #: The fast path of ``schema`` (see :mod:`.fastload`), or ``None``.
    _plan: ClassVar[fastload.Plan | None] = None
    #: Lazy attributes that must be present: (wire name, expected JSON type or ``None``).
    _required_keys: ClassVar[tuple[tuple[str, type | None], ...]] = ()

    raw: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, Any] = {}
        for name, value in list(vars(cls).items()):
            if isinstance(value, _Declared):
                marshmallow_field = value.field
                marshmallow_field.data_key = value.data_key or camel(name)
                if not marshmallow_field.required:
                    # Absent or null: Vapi sends explicit nulls for fields it has no value for.
                    marshmallow_field.load_default = None
                    marshmallow_field.allow_none = True
                declared[name] = marshmallow_field
                delattr(cls, name)
            elif isinstance(value, Lazy) and value.required:
                key = value.data_key or camel(name)
                cls._required_keys = (*cls._required_keys, (key, value.shape))
        cls._schema_class = type(f"{cls.__name__}Schema", (cls._schema_class,), declared)
        cls.schema = cls._schema_class()
        cls._plan = fastload.plan(cls.schema)

    @classmethod
    def load(cls: type[M], data: Any) -> M:
        """Validate ``data`` (a dict as received) and return the typed object.

        Raises :class:`marshmallow.ValidationError` with per-field messages.
        """
        if not isinstance(data, dict):
            raise ValidationError(["Not a valid object."])
        problems = _required_problems(cls._required_keys, data) if cls._required_keys else {}
        values = None
        if cls._plan is not None and not problems:
            values = fastload.load_plain(cls._plan, data)
        if values is None:
            try:
                values = cls.schema.load(data)
            except ValidationError as exc:
                if problems and isinstance(exc.messages, dict):
                    exc.messages.update(problems)
                raise
            if problems:
                raise ValidationError(problems)
        instance = cls.__new__(cls)
        instance.raw = data
        instance.__dict__.update(values)
        instance._check()
        return instance

    @classmethod
    def load_many(cls: type[M], data: Any) -> list[M]:
        """Validate a list of objects; errors are keyed by index."""
        if not isinstance(data, list):
            raise ValidationError(["Not a valid list."])
        loaded: list[M] = []
        errors: dict[int, Any] = {}
        for index, item in enumerate(data):
            try:
                loaded.append(cls.load(item))
            except ValidationError as exc:
                errors[index] = exc.messages
        if errors:
            raise ValidationError(errors)
        return loaded

    def _check(self) -> None:
        """Cross-field validation after loading; raise ``ValidationError``."""

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.__dict__.items() if not isinstance(v, (dict, list))}
        return f"<{type(self).__name__} {shown!r}>"


class ModelField(Field):
    """A marshmallow field that loads a nested :class:`VapiObject` eagerly."""

    def __init__(self, model: type[VapiObject], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return self.model.load(value)


class AnyValue(fields.Raw):
    """Any JSON value, passed through."""


class ObjectField(Field):
    """A JSON object, passed through as the dict received (no copy)."""

    default_error_messages = {"invalid": "Not a valid object."}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        return value
