"""Errors of the DDD building blocks, under the toolkit's root ``PatternError``.

::

    PatternError
    ├── ImmutableValueObject   a ValueObject attribute was assigned or deleted
    └── MissingDependencyError an optional extra (pydantic, prometheus, ...) is not installed
                               (also importable as MissingDependency)

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


class MissingDependencyError(PatternError, ImportError):
    """Raised when an optional extra is imported but its package is not installed.

    dddkit's name and signature: ``MissingDependencyError(package, install_package=None,
    extra=None)``; ``install_package`` is the name to ``pip install`` (default ``package``),
    ``extra`` the toolkit's extra that brings it (default ``install_package``).
    """

    _fields = ("package", "install_package", "extra")

    def __init__(
        self, package: str, install_package: str | None = None, extra: str | None = None
    ) -> None:
        self.package = package
        self.install_package = install_package or package
        self.extra = extra or install_package or package
        super().__init__(
            f"Package {package!r} is not installed but required. You can install it by "
            f"running `pip install 'django-pattern-toolkit[{self.extra}]'` to install the "
            f"toolkit with the required extra or 'pip install {self.install_package}' to "
            f"install the package separately"
        )


#: The toolkit's earlier name for :class:`MissingDependencyError`.
MissingDependency = MissingDependencyError
