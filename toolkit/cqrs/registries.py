"""Which models take part in replication, by CQRS_ID."""

from __future__ import annotations

from typing import Any, ClassVar

from toolkit.cqrs.exceptions import DuplicateCqrsId, UnknownCqrsId


def _label(model_cls: type[Any]) -> str:
    """``app_label.Model`` for a model, the dotted class path for a ``RawReplicaMixin``."""
    meta = getattr(model_cls, "_meta", None)
    return (
        str(meta.label) if meta is not None else f"{model_cls.__module__}.{model_cls.__qualname__}"
    )


class _Registry:
    role: ClassVar[str]
    models: ClassVar[dict[str, type[Any]]]

    @classmethod
    def register_model(cls, model_cls: type[Any]) -> None:
        """Registration of CQRS model identifiers."""
        cqrs_id = model_cls.CQRS_ID
        existing = cls.models.get(cqrs_id)
        if existing is not None and _label(existing) != _label(model_cls):
            raise DuplicateCqrsId(cqrs_id, _label(existing), _label(model_cls))
        cls.models[cqrs_id] = model_cls

    @classmethod
    def get_model_by_cqrs_id(cls, cqrs_id: str) -> type[Any] | None:
        """Returns the model class given its CQRS_ID, or None if it has not been registered."""
        return cls.models.get(cqrs_id)

    @classmethod
    def get(cls, cqrs_id: str) -> type[Any]:
        """Like :meth:`get_model_by_cqrs_id` but raise ``UnknownCqrsId`` listing the ids."""
        model = cls.models.get(cqrs_id)
        if model is None:
            raise UnknownCqrsId(cqrs_id, cls.role, cls.models)
        return model

    @classmethod
    def cqrs_ids(cls) -> list[str]:
        """Registered CQRS_IDs, sorted."""
        return sorted(cls.models)


class MasterRegistry(_Registry):
    """Master models (``MasterMixin`` subclasses with a CQRS_ID) by CQRS_ID."""

    role = "master"
    models: ClassVar[dict[str, type[Any]]] = {}


class ReplicaRegistry(_Registry):
    """Replica models (``ReplicaMixin`` subclasses with a CQRS_ID) by CQRS_ID."""

    role = "replica"
    models: ClassVar[dict[str, type[Any]]] = {}
