"""System checks of ``toolkit.cqrs`` that look at the registered models (``toolkit.E061``).

They sit above the model layer (they read the registries and the replica managers' field
names); the settings check, which needs none of that, stays in :mod:`toolkit.cqrs.conf`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.checks import CheckMessage, Error


def check_cqrs_models() -> list[CheckMessage]:
    """System check ``toolkit.E061``: master models have the revision fields, replica
    mappings and ``CQRS_FIELDS`` name real fields."""
    from django.core.exceptions import FieldDoesNotExist

    from toolkit.cqrs.constants import ALL_FIELDS, REVISION_FIELD, UPDATED_FIELD
    from toolkit.cqrs.managers import field_names
    from toolkit.cqrs.registries import MasterRegistry, ReplicaRegistry

    errors: list[CheckMessage] = []

    def unknown_fields(model: type[Any], what: str, names: Iterable[str]) -> list[CheckMessage]:
        unknown = sorted(set(names) - field_names(model))
        if not unknown:
            return []
        valid = ", ".join(repr(n) for n in sorted(field_names(model)))
        message = f"{model._meta.label}.{what} unknown field(s) {unknown!r}; fields are: {valid}"
        return [Error(message, id="toolkit.E061", obj=model)]

    for model in MasterRegistry.models.values():
        label = model._meta.label
        for required in (REVISION_FIELD, UPDATED_FIELD):
            try:
                model._meta.get_field(required)
            except FieldDoesNotExist:
                errors.append(
                    Error(
                        f"{label} is a CQRS master without a {required!r} field; use "
                        "MasterMixin, or declare it when using RawMasterMixin.",
                        id="toolkit.E061",
                        obj=model,
                    )
                )
        if model.CQRS_FIELDS != ALL_FIELDS:
            errors += unknown_fields(model, "CQRS_FIELDS names", model.CQRS_FIELDS)
    for model in ReplicaRegistry.models.values():
        if model.CQRS_CUSTOM_SERIALIZATION or not model.CQRS_MAPPING:
            continue
        errors += unknown_fields(model, "CQRS_MAPPING maps to", model.CQRS_MAPPING.values())
    return errors
