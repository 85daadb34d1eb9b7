"""What the pure core borrows from Django when it is installed, with a stand-in otherwise.

The core raises ``ImproperlyConfigured`` for a class defined wrongly (an empty
``StateMachine.Meta.states``, ...). Users of a Django project catch Django's class, so the core
raises exactly that one when Django is importable; without Django it raises a plain
``Exception`` subclass of the same name, and the core keeps working.
"""

from __future__ import annotations

try:
    from django.core.exceptions import ImproperlyConfigured
except ImportError:  # Django is not installed: the core still imports and works.

    class ImproperlyConfigured(Exception):  # type: ignore[no-redef]
        """A class or setting of the toolkit is configured wrongly (stand-in for Django's)."""


__all__ = ["ImproperlyConfigured"]
