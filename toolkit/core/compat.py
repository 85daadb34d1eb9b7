"""What the pure core borrows from Django when it is installed (with a stand-in otherwise), and
how the toolkit imports its optional dependencies.

The core raises ``ImproperlyConfigured`` for a class defined wrongly (an empty
``StateMachine.Meta.states``, ...). Users of a Django project catch Django's class, so the core
raises exactly that one when Django is importable; without Django it raises a plain
``Exception`` subclass of the same name, and the core keeps working.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from toolkit.core.exceptions import MissingDependencyError

try:
    from django.core.exceptions import ImproperlyConfigured
except ImportError:  # Django is not installed: the core still imports and works.

    class ImproperlyConfigured(Exception):  # type: ignore[no-redef]
        """A class or setting of the toolkit is configured wrongly (stand-in for Django's)."""


def optional_import(module: str, *, extra: str, install: str | None = None) -> ModuleType:
    """Import an optional dependency, or raise :class:`MissingDependencyError` naming the
    toolkit's extra that installs it (``pip install 'django-pattern-toolkit[<extra>]'``).

    For the code paths that only some projects take: psycopg 3 on PostgreSQL (a project may
    run Django on psycopg2), jsonschema for JSON Schema files.
    """
    try:
        return import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module, install or module, extra) from exc


__all__ = ["ImproperlyConfigured", "optional_import"]
