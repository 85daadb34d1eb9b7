"""django-cqrs' ``dj_cqrs.correlation``: the correlation id of an outgoing message."""

from __future__ import annotations

from typing import Any


def get_correlation_id(signal_type: Any, cqrs_id: str, instance_pk: Any, queue: Any) -> Any:
    """``correlation_function(signal_type, cqrs_id, instance_pk, queue)`` from the settings
    (``CQRS["master"]["correlation_function"]`` or ``TOOLKIT["cqrs"]``), or None without one.

    The producer calls it for every message, as django-cqrs does.
    """
    from toolkit.cqrs.conf import cqrs_settings

    function = cqrs_settings().correlation_function
    if function:
        return function(signal_type, cqrs_id, instance_pk, queue)
    return None


__all__ = ["get_correlation_id"]
