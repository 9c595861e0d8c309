"""A tool handler's signature as the one marshmallow schema of its arguments, built at registration.

The same schema validates and converts each call's arguments and, through apispec, becomes
the ``parameters`` of the exported tool definition (:mod:`flask_vapi.tooldefs`).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import inspect
import types
import typing
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional

from marshmallow import INCLUDE, RAISE, Schema, fields, validate

from .errors import ConfigurationError

if TYPE_CHECKING:  # marshmallow 4's Field is generic, marshmallow 3's is not
    Field = fields.Field[Any]
else:
    Field = fields.Field


class Integer(fields.Integer):
    """An integer from a number or numeric text; ``21.5`` is refused, not truncated to 21."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


#: Field classes of the scalar annotations (exact types: a ``str`` subclass is not mapped).
SCALARS: dict[Any, Callable[..., Field]] = {
    str: fields.String,
    int: Integer,
    float: fields.Float,
    bool: fields.Boolean,
    datetime.datetime: fields.DateTime,
    datetime.date: fields.Date,
    datetime.time: fields.Time,
    decimal.Decimal: fields.Decimal,
}
SUPPORTED = (
    "str, int, float, bool, datetime.date/datetime/time, Decimal, an Enum, Literal[...], "
    "Optional[...], list[...], dict[str, ...] or Any"
)
#: In :func:`fast_types`: any value of this argument is loaded unchanged.
ANY = object()
_UNIONS = (typing.Union, getattr(types, "UnionType", typing.Union))  # X | Y: Python 3.10+
_ANY_TYPES = (typing.Any, object)
# Fields whose load of a value of exactly this type returns the value itself.
_IDENTITY: dict[type[Any], type[Any]] = {fields.String: str, Integer: int, fields.Boolean: bool}


class Unmappable(Exception):
    """An annotation with no marshmallow field (raised inside :func:`field_for`)."""


class Signature(NamedTuple):
    """What a handler's signature says about its arguments."""

    #: The handler's named parameters (``*args``, ``**kwargs``, a partial's bound ones left out).
    parameters: list[inspect.Parameter]
    #: The handler takes ``**kwargs``: any other argument is passed through.
    open_ended: bool


def handler_target(func: Callable[..., Any]) -> Callable[..., Any]:
    """The function whose name, docstring and annotations describe ``func``.

    A :func:`functools.partial` is described by the function it wraps, a callable object
    by its class (name and docstring) and its ``__call__`` (annotations).
    """
    while isinstance(func, functools.partial):
        func = func.func
    return func


def signature(tool: str, func: Callable[..., Any]) -> Signature:
    """The named parameters of ``func``; a required positional-only one is a
    :class:`~flask_vapi.ConfigurationError` (tool arguments arrive as keywords)."""
    bound: set[str] = set()
    target = func
    while isinstance(target, functools.partial):
        bound.update(target.keywords)
        target = target.func
    parameters, open_ended = [], False
    for parameter in inspect.signature(func).parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD:
            open_ended = True
        elif parameter.kind is parameter.POSITIONAL_ONLY:
            if parameter.default is parameter.empty:
                raise ConfigurationError(
                    f"The positional-only parameter {parameter.name!r} of tool {tool!r} "
                    f"({getattr(target, '__qualname__', type(target).__qualname__)}) cannot "
                    "be given: tool arguments arrive as keywords."
                )
        elif parameter.kind is not parameter.VAR_POSITIONAL and parameter.name not in bound:
            parameters.append(parameter)
    return Signature(parameters, open_ended)


def signature_schema(
    tool: str, func: Callable[..., Any], described: Optional[Signature] = None
) -> Schema:
    """The schema of the arguments of ``func``, from its annotations and defaults.

    A parameter without a default is required; a ``None`` default (or ``Optional``) allows
    null; without ``**kwargs`` other arguments are refused.  Raises
    :class:`~flask_vapi.ConfigurationError` naming the tool and parameter for an annotation
    that cannot be resolved or has no JSON type.
    """
    described = described or signature(tool, func)
    annotated = _annotated(func)
    try:
        hints = dict(getattr(annotated, "__annotations__", None) or {})
    except Exception as exc:  # pragma: no cover - lazily evaluated annotations (3.14+)
        raise ConfigurationError(f"Cannot read the annotations of tool {tool!r}: {exc}") from None
    namespace: dict[str, Any] = getattr(inspect.unwrap(annotated), "__globals__", {})
    declared: dict[str, Field] = {}
    for parameter in described.parameters:
        name = parameter.name
        annotation = _resolve(tool, name, hints.get(name, parameter.empty), namespace)
        try:
            field = field_for(
                annotation,
                required=parameter.default is parameter.empty,
                allow_none=parameter.default is None,
            )
        except (Unmappable, TypeError) as exc:  # TypeError: an unhashable annotation
            raise ConfigurationError(
                f"The parameter {name!r} of tool {tool!r} is annotated {_show(annotation)}: "
                f"{exc}. Use {SUPPORTED}, or pass schema= to @vapi.tool."
            ) from None
        _document_default(field, parameter.default)
        declared[name] = field
    schema_class = Schema.from_dict(declared, name=f"{tool}Arguments")
    return schema_class(unknown=INCLUDE if described.open_ended else RAISE)


def field_for(annotation: Any, *, required: bool = False, allow_none: bool = False) -> Field:
    """The marshmallow field of one annotation (raises :class:`Unmappable`)."""
    while hasattr(annotation, "__supertype__"):  # typing.NewType
        annotation = annotation.__supertype__
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in _UNIONS:
        others = [arg for arg in args if arg is not type(None)]
        if len(others) != 1:
            raise Unmappable("a union of several types has no single JSON type")
        return field_for(others[0], required=required, allow_none=True)
    options: dict[str, Any] = {"required": required, "allow_none": allow_none}
    if annotation is inspect.Parameter.empty or annotation in _ANY_TYPES:
        return fields.Raw(required=required, allow_none=True)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum_field(annotation, options)
    if origin is typing.Literal:
        return _literal_field(args, options)
    if annotation in SCALARS:
        return SCALARS[annotation](**options)
    if annotation is list or origin is list:
        inner = field_for(args[0]) if args else fields.Raw(allow_none=True)
        return fields.List(inner, **options)
    if annotation is dict or origin is dict:
        keys, values = (field_for(args[0]), field_for(args[1])) if args else (None, None)
        if type(values) is fields.Raw:
            values = None  # dict[str, Any]: any value, as a plain dict is
        return fields.Dict(keys=keys, values=values, **options)
    raise Unmappable("it has no JSON type")


def fast_types(schema: Schema) -> Optional[dict[str, Any]]:
    """Parameter -> the one Python type whose values the schema loads unchanged (or :data:`ANY`).

    ``None`` when a field may convert or refuse a value of its own type (validators, dates,
    floats, lists...): such schemas always run :meth:`~marshmallow.Schema.load`.  With the
    map, a call whose every argument is of exactly its type needs no load at all.
    """
    types_by_name: dict[str, Any] = {}
    for name, field in schema.load_fields.items():
        if field.validators or (field.data_key or name) != name:
            return None
        if type(field) is fields.Raw and field.allow_none:
            types_by_name[name] = ANY
        elif type(field) in _IDENTITY:
            types_by_name[name] = _IDENTITY[type(field)]
        else:
            return None
    return types_by_name


# -- helpers --------------------------------------------------------------------------------


def _enum_field(kind: type[enum.Enum], options: dict[str, Any]) -> Field:
    """By value when every value is a string (what a model writes), else by name."""
    if all(isinstance(member.value, str) for member in kind):
        return fields.Enum(kind, by_value=fields.String, **options)
    return fields.Enum(kind, **options)


def _literal_field(args: tuple[Any, ...], options: dict[str, Any]) -> Field:
    values = [arg for arg in args if arg is not None]
    kinds = {type(value) for value in values}
    if len(kinds) != 1 or next(iter(kinds)) not in (str, int, bool):
        raise Unmappable("a Literal's values must all be str, all int or all bool")
    if len(values) < len(args):  # Literal["a", None]
        options = {**options, "allow_none": True}
    return SCALARS[kinds.pop()](validate=validate.OneOf(values), **options)


def _document_default(field: Field, default: Any) -> None:
    """Show a plain JSON default in the tool definition (the handler applies its own)."""
    if default is inspect.Parameter.empty or default is None:
        return
    try:
        shown = field.serialize("default", {"default": default})
    except Exception:  # a sentinel or a value of another type: nothing to show
        return
    if _plain(shown):
        field.metadata = {**field.metadata, "default": shown}


def _plain(value: Any) -> bool:
    if isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    return False


def _annotated(func: Callable[..., Any]) -> Callable[..., Any]:
    """The function whose ``__annotations__`` and ``__globals__`` type ``func``'s parameters."""
    target = handler_target(func)
    if inspect.isfunction(target) or inspect.ismethod(target):
        return target
    # A class (its instances are the results) is typed by __init__, an object by __call__.
    method: Callable[..., Any] = getattr(
        target, "__init__" if isinstance(target, type) else "__call__"
    )
    return getattr(method, "__func__", method)


class _Hint:
    """One annotation in an object ``typing.get_type_hints`` resolves like a function's."""

    def __init__(self, annotation: Any) -> None:
        self.__annotations__ = {"value": annotation}


def _resolve(tool: str, name: str, annotation: Any, namespace: dict[str, Any]) -> Any:
    """The annotation of one parameter, with string (forward) references evaluated."""
    if annotation is inspect.Parameter.empty:
        return annotation
    try:
        return typing.get_type_hints(_Hint(annotation), globalns=namespace)["value"]
    except Exception as exc:
        if isinstance(exc, TypeError) and "|" in str(annotation):
            hint = "X | Y needs Python 3.10: use Optional[X] or Union[X, Y]."
        else:
            hint = (
                "String annotations are evaluated in the handler's module: import the type "
                "there (not only under TYPE_CHECKING)."
            )
        raise ConfigurationError(
            f"Cannot resolve the annotation {_show(annotation)} of parameter {name!r} of tool "
            f"{tool!r}: {type(exc).__name__}: {exc}. {hint}"
        ) from None


def _show(annotation: Any) -> str:
    if isinstance(annotation, str):
        return repr(annotation)
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__qualname__
    return repr(annotation).replace("typing.", "")
