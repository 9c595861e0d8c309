"""Read-only attributes computed from declared ones: where Vapi moved a field, or never sent it."""

from __future__ import annotations

from typing import Any, Callable, Generic, Optional, TypeVar, overload

T = TypeVar("T")


class Derived(Generic[T]):
    """An attribute computed on first read from the object's declared attributes, then cached.

    ``wire`` says where the value comes from (for the reference in docs/messages.md);
    the description is the first line of the function's docstring.
    """

    def __init__(self, compute: Callable[[Any], Optional[T]], wire: str) -> None:
        self.compute = compute
        self.wire = wire
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> Derived[T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> Optional[T]: ...

    def __get__(self, instance: object | None, owner: type) -> Derived[T] | Optional[T]:
        if instance is None:
            return self
        value = self.compute(instance)
        # A non-data descriptor: from now on the instance attribute shadows it.
        instance.__dict__[self.name] = value
        return value


def derived(wire: str) -> Callable[[Callable[[Any], Optional[T]]], Derived[T]]:
    """Declare a :class:`Derived` attribute; ``wire`` documents the wire fields it reads."""

    def declare(compute: Callable[[Any], Optional[T]]) -> Derived[T]:
        return Derived(compute, wire)

    return declare


def first(*values: Optional[T]) -> Optional[T]:
    """The first of ``values`` that is not ``None`` (``0`` and ``""`` count as values)."""
    for value in values:
        if value is not None:
            return value
    return None
