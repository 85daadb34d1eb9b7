"""Which field identifies an entity: the core's, in :mod:`toolkit.core.aggregate`.

Kept importable here for the dataclasses and pydantic flavours' earlier imports.
"""

from __future__ import annotations

from toolkit.core.aggregate import field_names, identity_field_of

__all__ = ["field_names", "identity_field_of"]
