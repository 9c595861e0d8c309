"""Typed, marshmallow-validated views of Vapi JSON objects, with lazily loaded nested parts."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Generic, Optional, TypeVar, overload

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from . import fastload
from .kinds import AnyValue, ListValue, ModelField, ModelList, ObjectField

if TYPE_CHECKING:  # marshmallow 4's Field is generic, marshmallow 3's is not
    Field = fields.Field[Any]
else:
    Field = fields.Field

__all__ = [
    "AnyValue",
    "BaseSchema",
    "Lazy",
    "ListValue",
    "ModelField",
    "ModelList",
    "ObjectField",
    "VapiObject",
    "camel",
    "field",
    "flatten",
    "many",
    "one",
    "raw",
]

logger = logging.getLogger("flask_vapi")

T = TypeVar("T")
M = TypeVar("M", bound="VapiObject")

_CAMEL_BOUNDARY = re.compile(r"_([a-z0-9])")
_NO_PROBLEMS: Mapping[str, list[str]] = MappingProxyType({})
#: Advanced whenever an object records a problem (``next`` is atomic), so that a lazy read
#: during which nothing was recorded needs no scan of what it loaded.
_PROBLEMS_RECORDED = itertools.count()


def camel(name: str) -> str:
    """``ended_reason`` -> ``endedReason``: the wire name of a snake_case attribute."""
    return _CAMEL_BOUNDARY.sub(lambda match: match.group(1).upper(), name)


def flatten(messages: Any, path: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error messages as ``{"artifact.messages.3.role": [...]}``."""
    found: dict[str, list[str]] = {}
    _flatten(messages, path, found)
    return found


def _flatten(messages: Any, path: str, found: dict[str, list[str]]) -> None:
    if isinstance(messages, dict):
        for key, value in messages.items():
            _flatten(value, f"{path}.{key}" if path else str(key), found)
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            _flatten(item, path, found)
    else:
        found.setdefault(path or "_schema", []).append(str(messages))


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

    __slots__ = ("data_key", "field", "vital")

    def __init__(self, field: Field, data_key: Optional[str], vital: bool) -> None:
        self.field = field
        self.data_key = data_key
        self.vital = vital


def field(marshmallow_field: Field, data_key: Optional[str] = None, *, vital: bool = False) -> Any:
    """Declare an eagerly validated attribute; the wire name defaults to its camelCase form.

    Optional fields (not ``required``) load as ``None`` when absent or ``null``.  A
    field that is missing (when ``required``) or invalid reads ``None`` and is named
    in ``invalid_fields``; only a ``vital`` one (a field flask-vapi itself cannot
    answer without) makes :meth:`VapiObject.load` raise.
    """
    return _Declared(marshmallow_field, data_key, vital)


class Lazy(Generic[T]):
    """An attribute loaded from ``raw`` on first access, then cached on the instance.

    Nested context objects (``call``, ``assistant``, conversation histories, ...)
    are large and most handlers never read them, so they are validated only when
    read.  Absent or ``null`` values read as ``None``; so do values that fail to
    load: their errors go to the owner's ``invalid_fields`` and one WARNING names
    their paths.  ``required`` or ``vital`` keys are checked for presence (and
    for the JSON shape ``presence``) when the owner is loaded, as a schema field.
    """

    def __init__(
        self,
        load: Callable[[Any], T],
        data_key: Optional[str] = None,
        required: bool = False,
        presence: type[Field] = AnyValue,
        *,
        vital: bool = False,
        nested: bool = False,
    ) -> None:
        self._load = load
        self.data_key = data_key
        self.required = required
        self.vital = vital
        self.presence = presence
        #: It loads :class:`VapiObject` values, whose ``invalid_fields`` the owner's include.
        self.nested = nested
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        if self.data_key is None:
            self.data_key = camel(name)

    @overload
    def __get__(self, instance: None, owner: type) -> Lazy[T]: ...

    @overload
    def __get__(self, instance: VapiObject, owner: type) -> Optional[T]: ...

    def __get__(self, instance: Optional[VapiObject], owner: type) -> Lazy[T] | T | None:
        if instance is None:
            return self
        key: str = self.data_key  # type: ignore[assignment]
        value = instance.raw.get(key)
        loaded: Any = None
        if value is not None:
            before = next(_PROBLEMS_RECORDED)
            try:
                loaded = self._load(value)
            except ValidationError as exc:
                loaded = exc.valid_data  # a list keeps the items that loaded
                problems = flatten(exc.messages, key)
            else:
                problems = {}
            recorded = next(_PROBLEMS_RECORDED) != before + 1
            if problems:
                instance._note(problems)
            if self.nested and loaded is not None:
                # Recorded so that ``invalid_fields`` walks only what was loaded.
                instance.__dict__.setdefault("_read", []).append((self.name, key))
                if recorded:
                    problems.update(_nested_problems(key, loaded, value))
            if problems:
                logger.warning(
                    "Vapi data read as %s.%s has invalid fields (read as None): %s",
                    type(instance).__name__,
                    self.name,
                    ", ".join(problems),
                )
        # A non-data descriptor: from now on the instance attribute shadows it.
        instance.__dict__[self.name] = loaded
        return loaded  # type: ignore[no-any-return]


def one(
    model: type[M], data_key: Optional[str] = None, *, required: bool = False, vital: bool = False
) -> Lazy[M]:
    """A lazily loaded nested object (``required`` / ``vital``: its presence is checked on load)."""
    return Lazy(model.load, data_key, required, ObjectField, vital=vital, nested=True)


def many(
    model: type[M], data_key: Optional[str] = None, *, required: bool = False, vital: bool = False
) -> Lazy[list[M]]:
    """A lazily loaded list of nested objects; an item that fails to load is left out."""
    return Lazy(model.load_many, data_key, required, ListValue, vital=vital, nested=True)


def raw(
    data_key: Optional[str] = None, *, required: bool = False, vital: bool = False
) -> Lazy[Any]:
    """A lazily read value passed through as received (free-form objects)."""
    return Lazy(_identity, data_key, required, vital=vital)


def _identity(value: Any) -> Any:
    return value


def _nested_problems(key: str, child: Any, raw_value: Any) -> dict[str, list[str]]:
    """The ``invalid_fields`` of a loaded nested object or list, under ``key``."""
    found: dict[str, list[str]] = {}
    if isinstance(child, VapiObject):
        if child._problems or child._children or "_read" in child.__dict__:
            for path, messages in child.invalid_fields.items():
                found[f"{key}.{path}"] = messages
        return found
    positions = None
    if isinstance(raw_value, list) and len(raw_value) != len(child):
        # Items that failed to load were left out: name the others by their wire index.
        positions = {id(item): index for index, item in enumerate(raw_value)}
    for index, item in enumerate(child):
        if item._problems or item._children or "_read" in item.__dict__:
            at = index if positions is None else positions.get(id(item.raw), index)
            for path, messages in item.invalid_fields.items():
                found[f"{key}.{at}.{path}"] = messages
    return found


class VapiObject:
    """A validated Vapi object: snake_case attributes, and ``raw``, the dict as received.

    Subclasses declare eager attributes with :func:`field` (validated on load) and
    lazy ones with :func:`one`, :func:`many` or :func:`raw`.  Attributes Vapi adds
    later, and which are not declared here yet, are always in ``raw``.

    Loading is lenient: a missing or invalid field reads ``None`` and is named in
    :attr:`invalid_fields`.  Only *vital* fields, those flask-vapi cannot answer
    without, make :meth:`load` raise.
    """

    #: The marshmallow schema validating the eager fields (built per subclass).
    schema: ClassVar[Schema]
    _schema_class: ClassVar[type[Schema]] = BaseSchema
    #: The fast path of ``schema`` (see :mod:`.fastload`), or ``None``.
    _plan: ClassVar[Optional[fastload.Plan]] = None
    #: Wire names whose errors make :meth:`load` raise.
    _vital: ClassVar[frozenset[str]] = frozenset()
    #: Wire name -> attribute name, for every declared attribute.
    _attributes: ClassVar[Mapping[str, str]] = MappingProxyType({})
    #: Schema fields that only check a lazy attribute's presence (their values are dropped).
    _presence: ClassVar[tuple[str, ...]] = ()
    #: (attribute, wire name) of the eager fields holding nested :class:`VapiObject` values
    #: (lazy ones are recorded per instance in ``_read`` when they are read).
    _children: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: Attributes ``repr`` leaves out (capability URLs).
    _private: ClassVar[frozenset[str]] = frozenset()
    #: Whether the class overrides :meth:`_normalise`.
    _normalises: ClassVar[bool] = False
    #: This object's own problems (paths in wire names); the class default is empty.
    _problems: Mapping[str, list[str]] = _NO_PROBLEMS

    raw: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, Any] = {}
        vital = set(cls._vital)
        attributes = dict(cls._attributes)
        presence = dict.fromkeys(cls._presence)
        children = dict(cls._children)
        for name, value in list(vars(cls).items()):
            if isinstance(value, _Declared):
                key = value.data_key or camel(name)
                marshmallow_field = value.field
                marshmallow_field.data_key = key
                if not marshmallow_field.required:
                    # Absent or null: Vapi sends explicit nulls for fields it has no value for.
                    marshmallow_field.load_default = None
                    marshmallow_field.allow_none = True
                declared[name] = marshmallow_field
                delattr(cls, name)
                is_vital, nested = value.vital, isinstance(value.field, (ModelField, ModelList))
            elif isinstance(value, Lazy):
                key = value.data_key or camel(name)
                if value.required or value.vital:
                    declared[name] = value.presence(required=True, data_key=key)
                    presence[name] = None
                is_vital, nested = value.vital, False
            else:
                continue
            attributes[key] = name
            (vital.add if is_vital else vital.discard)(key)
            if nested:
                children[name] = key
            else:
                children.pop(name, None)
        cls._vital = frozenset(vital)
        cls._attributes = MappingProxyType(attributes)
        cls._presence = tuple(presence)
        cls._children = tuple(children.items())
        cls._normalises = cls._normalise is not VapiObject._normalise
        cls._schema_class = type(f"{cls.__name__}Schema", (cls._schema_class,), declared)
        cls.schema = cls._schema_class()
        cls._plan = fastload.plan(cls.schema)

    @classmethod
    def load(cls: type[M], data: Any) -> M:
        """Validate ``data`` (a dict as received) and return the typed object.

        Raises :class:`marshmallow.ValidationError` (messages by wire name) only when
        ``data`` is not an object or a vital field is missing or invalid.
        """
        if not isinstance(data, dict):
            raise ValidationError(["Not a valid object."])
        plan = cls._plan
        values = fastload.load_plain(plan, data) if plan is not None else None
        problems = None
        if values is not None:
            for name in cls._presence:
                del values[name]  # only checked: the lazy attribute reads it
        else:
            try:
                values = cls.schema.load(data)
            except ValidationError as exc:
                messages = exc.messages if isinstance(exc.messages, dict) else {}
                vital = {key: errors for key, errors in messages.items() if key in cls._vital}
                if vital:
                    raise ValidationError(vital) from None
                values = dict(exc.valid_data or {})
                for key in messages:  # a failed attribute reads None
                    attribute = cls._attributes.get(key)
                    if attribute is not None:
                        values[attribute] = None
                problems = flatten(exc.messages)
                next(_PROBLEMS_RECORDED)
            for name in cls._presence:
                if values.get(name) is not None:
                    del values[name]
        instance = cls.__new__(cls)
        instance.raw = data
        if problems:
            values["_problems"] = problems
        instance.__dict__.update(values)
        if cls._normalises:
            instance._normalise()
        return instance

    @classmethod
    def load_many(cls: type[M], data: Any) -> list[M]:
        """Load a list of objects.

        Raises :class:`marshmallow.ValidationError` when ``data`` is not a list or an
        item fails to load (errors keyed by index); its ``valid_data`` then holds the
        items that loaded, which is what a lazy :func:`many` attribute reads.
        """
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
            raise ValidationError(errors, valid_data=loaded)
        return loaded

    @property
    def invalid_fields(self) -> dict[str, list[str]]:
        """Field path (wire names, ``artifact.messages.3.role``) -> what was wrong with it.

        Empty when everything validated.  It covers the eager fields from the
        moment the object is loaded, and each lazy attribute once it was read
        (a failed read is named here and read as ``None``).
        """
        found = dict(self._problems)
        loaded = self.__dict__
        for pairs in (self._children, loaded.get("_read", ())):
            for name, key in pairs:
                child = loaded.get(name)
                if child is not None:
                    found.update(_nested_problems(key, child, self.raw.get(key)))
        return found

    def _note(self, problems: Mapping[str, list[str]]) -> None:
        """Add ``problems`` to this object's own."""
        next(_PROBLEMS_RECORDED)
        own = self.__dict__.get("_problems")
        if own is None:
            own = self.__dict__["_problems"] = {}
        for path, messages in problems.items():
            own.setdefault(path, []).extend(messages)

    def _normalise(self) -> None:
        """Derive attributes the schema cannot (override; report problems with :meth:`_note`)."""

    def __repr__(self) -> str:
        shown = {
            key: value
            for key, value in self.__dict__.items()
            if not isinstance(value, (dict, list)) and key not in self._private
        }
        return f"<{type(self).__name__} {shown!r}>"
