"""Errors of the DDD building blocks, under the toolkit's root ``PatternError``.

::

    PatternError
    ├── ImmutableValueObject   a ValueObject attribute was assigned or deleted
    └── MissingDependency      an optional extra (pydantic) is not installed

Event dispatch failures raise :class:`toolkit.patterns.exceptions.EventDispatchError`.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError

from toolkit.core.exceptions import PatternError


class ImmutableValueObject(PatternError, FrozenInstanceError):
    """Raised when code assigns or deletes an attribute of a value object.

    It is also a :class:`dataclasses.FrozenInstanceError` (an ``AttributeError``), so code
    that expects the dataclasses behaviour keeps working.
    """

    _fields = ("value_object", "attribute")

    def __init__(self, value_object: str, attribute: str) -> None:
        self.value_object = value_object
        self.attribute = attribute
        super().__init__(
            f"Cannot change attribute {attribute!r} of {value_object}: value objects are "
            f"immutable; build a new one with dataclasses.replace() or model_copy()"
        )


class MissingDependency(PatternError, ImportError):
    """Raised when an optional extra is imported but its package is not installed."""

    _fields = ("package", "extra")

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{package!r} is not installed; install it with: "
            f'pip install "django-pattern-toolkit[{extra}]"'
        )
