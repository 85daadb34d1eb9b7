"""Mask sensitive fields in what the panel shows and exports.

Name the fields in the settings; their values are replaced by :data:`MASK` wherever they occur
(at any depth) in command parameters and results, transition metadata, event payloads and
replayed states, in pages and CSV exports alike, for users without
``patterns_admin.view_sensitive``. Superusers see everything::

    TOOLKIT = {"admin": {"sensitive_fields": ["email", "address", "customer_name"]}}

Names match dictionary keys case-insensitively. The value is replaced, not the key, so the
operator still sees that the field was there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from patterns_admin.permissions import VIEW_SENSITIVE

MASK: Final = "••••••"

Masker = Callable[[Any], Any]


def sensitive_fields() -> frozenset[str]:
    """The lower-cased names in ``TOOLKIT["admin"]["sensitive_fields"]`` (empty by default).

    Raises ``ImproperlyConfigured`` naming the value when it is not a list of strings.
    """
    from toolkit.conf import toolkit_settings

    raw = toolkit_settings.admin.get("sensitive_fields", ())
    if isinstance(raw, str) or not all(isinstance(name, str) and name for name in raw):
        raise ImproperlyConfigured(
            f"TOOLKIT['admin']['sensitive_fields'] is {raw!r}; "
            "it must be a list of field names, e.g. ['email', 'address']."
        )
    return frozenset(name.lower() for name in raw)


def mask(value: Any, fields: frozenset[str]) -> Any:
    """A copy of ``value`` with the value of every key in ``fields`` replaced by :data:`MASK`.

    Dicts and lists are walked at any depth; anything else is returned as it is.
    """
    if not fields:
        return value
    if isinstance(value, dict):
        return {
            key: MASK if str(key).lower() in fields else mask(item, fields)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [mask(item, fields) for item in value]
    return value


def _unchanged(value: Any) -> Any:
    return value


def may_view_sensitive(request: HttpRequest) -> bool:
    """Whether the request's user sees sensitive fields (superusers always do)."""
    user = request.user
    return bool(user.is_active and user.is_staff and user.has_perm(VIEW_SENSITIVE))


def masker_for(request: HttpRequest) -> Masker:
    """The function that prepares a value for this user: :func:`mask` or the identity."""
    fields = sensitive_fields()
    if not fields or may_view_sensitive(request):
        return _unchanged
    return lambda value: mask(value, fields)
