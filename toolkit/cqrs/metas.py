"""``MasterMeta`` / ``ReplicaMeta``: django-cqrs' metaclasses that register CQRS classes.

``MasterMixin`` and ``ReplicaMixin`` models are registered when Django prepares them (a
``class_prepared`` hook in :mod:`toolkit.cqrs.mixins`), so naming a metaclass is only needed
for a replica that is not a model::

    class AuditFeed(RawReplicaMixin, metaclass=ReplicaMeta):
        CQRS_ID = "product"

Code written against django-cqrs that names the metaclass on a model keeps working: the
registration is the same one, made once.
"""

from __future__ import annotations

from typing import Any

from django.db.models import base

from toolkit.cqrs.registries import MasterRegistry, ReplicaRegistry
from toolkit.cqrs.signals import MasterSignals


def _check_cqrs_id(model_cls: type[Any]) -> None:
    if not getattr(model_cls, "CQRS_ID", None):
        raise AssertionError("CQRS_ID must be set for every model, that uses CQRS.")


def _is_abstract(model_cls: type[Any]) -> bool:
    meta = getattr(model_cls, "_meta", None)
    return bool(meta is not None and (meta.abstract or meta.proxy))


class MasterMeta(base.ModelBase):
    """Registers a concrete master model (its CQRS_ID and its signal handlers)."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any], **kwargs: Any):  # type: ignore[no-untyped-def]
        model_cls = super().__new__(mcs, name, bases, attrs, **kwargs)
        if not _is_abstract(model_cls) and hasattr(model_cls, "_meta"):
            mcs.register(model_cls)
        return model_cls

    @staticmethod
    def register(model_cls: type[Any]) -> type[Any]:
        """Register ``model_cls`` as a master; raise ``AssertionError`` without a CQRS_ID."""
        _check_cqrs_id(model_cls)
        MasterRegistry.register_model(model_cls)
        MasterSignals.register_model(model_cls)
        return model_cls


class ReplicaMeta(base.ModelBase):
    """Registers a concrete replica: a ``ReplicaMixin`` model or a ``RawReplicaMixin`` class."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any], **kwargs: Any):  # type: ignore[no-untyped-def]
        model_cls = super().__new__(mcs, name, bases, attrs, **kwargs)
        if not _is_abstract(model_cls):
            mcs.register(model_cls)
        return model_cls

    @staticmethod
    def register(model_cls: type[Any]) -> type[Any]:
        """Register ``model_cls`` as a replica; raise ``AssertionError`` without a CQRS_ID."""
        _check_cqrs_id(model_cls)
        ReplicaRegistry.register_model(model_cls)
        return model_cls
