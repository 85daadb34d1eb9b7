"""django-pattern-toolkit: durable architecture patterns for Django.

Import the patterns from :mod:`toolkit.patterns`; add ``"toolkit"`` to ``INSTALLED_APPS``
for the audit and event-sourcing tables.
"""

from __future__ import annotations

__version__ = "0.1.0"
