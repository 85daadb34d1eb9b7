"""Signals for bulk operations and the handlers that turn master changes into messages."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import Signal

from toolkit.cqrs.constants import SignalType


def _using(instance: Any, kwargs: dict[str, Any]) -> str:
    """The ``using`` argument, else the database the instance was read from or written to."""
    from django.db import router

    using = kwargs.get("using") or instance._state.db
    return str(using or router.db_for_write(type(instance), instance=instance))


#: Signal sent after a bulk create. See ``RawMasterMixin.call_post_bulk_create``.
post_bulk_create = Signal()

#: Signal sent after a bulk update. See ``RawMasterMixin.call_post_update``.
post_update = Signal()


class MasterSignals:
    """Signals registry and handlers for CQRS master models."""

    models: set[str] = set()

    @classmethod
    def register_model(cls, model_cls: type[Any]) -> None:
        """Registers signals for a model (done for every master model when it is defined)."""
        uid = f"toolkit.cqrs:{model_cls._meta.label}"
        post_save.connect(cls.post_save, sender=model_cls, weak=False, dispatch_uid=uid)
        pre_delete.connect(cls.pre_delete, sender=model_cls, weak=False, dispatch_uid=uid)
        post_delete.connect(cls.post_delete, sender=model_cls, weak=False, dispatch_uid=uid)
        post_bulk_create.connect(
            cls.post_bulk_create, sender=model_cls, weak=False, dispatch_uid=uid
        )
        post_update.connect(cls.post_bulk_update, sender=model_cls, weak=False, dispatch_uid=uid)
        cls.models.add(model_cls._meta.label)

    @classmethod
    def post_save(cls, sender: type[Any], **kwargs: Any) -> None:
        """Queue a SAVE message for the saved instance (sent after the transaction commits).

        Besides Django's ``post_save`` arguments it takes django-cqrs' ``sync=True`` (send a
        SYNC instead) and ``queue`` (address a SYNC to one replica queue); ``using`` defaults
        to the instance's database.
        """
        from toolkit.cqrs import producer
        from toolkit.cqrs.constants import REVISION_FIELD

        instance = kwargs["instance"]
        if kwargs.get("raw") or not sender.CQRS_PRODUCE:
            return
        # django-cqrs: ``save(update_fields=[...])`` publishes only with ``cqrs_revision``
        # among the fields (``update_cqrs_fields=True`` or CQRS_AUTO_UPDATE_FIELDS).
        update_fields = kwargs.get("update_fields")
        if update_fields and REVISION_FIELD not in update_fields:
            return
        if not instance.is_sync_instance():
            return
        producer.enqueue(
            instance,
            SignalType.SYNC if kwargs.get("sync") else SignalType.SAVE,
            using=_using(instance, kwargs),
            created=bool(kwargs.get("created", False)),
            queue=kwargs.get("queue"),
        )

    @classmethod
    def pre_delete(cls, sender: type[Any], **kwargs: Any) -> None:
        """Read the row's current revision under a row lock, for the DELETE message.

        Django deletes inside a transaction, so the lock holds until the DELETE commits: the
        message carries the revision after the last committed save, never the stale one the
        instance was loaded with (a replica would ignore that DELETE as a duplicate).
        """
        from toolkit.cqrs.constants import REVISION_FIELD

        instance = kwargs["instance"]
        if not sender.CQRS_PRODUCE or instance.pk is None:
            return
        revision = (
            sender._base_manager.using(_using(instance, kwargs))
            .select_for_update()
            .filter(pk=instance.pk)
            .values_list(REVISION_FIELD, flat=True)
            .first()
        )
        if revision is not None:
            instance._cqrs_db_revision = revision

    @classmethod
    def post_delete(cls, sender: type[Any], **kwargs: Any) -> None:
        """Queue a DELETE message, or drop the pending one if the row was created unpublished."""
        from toolkit.cqrs import producer

        if not sender.CQRS_PRODUCE:
            return
        instance = kwargs["instance"]
        if not instance.is_sync_instance():
            return
        producer.enqueue_delete(instance, using=_using(instance, kwargs))

    @classmethod
    def post_bulk_create(cls, sender: type[Any], **kwargs: Any) -> None:
        """Queue a SAVE message for every instance of a ``cqrs.bulk_create``."""
        from toolkit.cqrs import producer

        if not sender.CQRS_PRODUCE:
            return
        producer.enqueue_many(list(kwargs["instances"]), using=kwargs["using"], created=True)

    @classmethod
    def post_bulk_update(cls, sender: type[Any], **kwargs: Any) -> None:
        """Queue a SAVE message for every instance of a ``cqrs.bulk_update``."""
        from toolkit.cqrs import producer

        if not sender.CQRS_PRODUCE:
            return
        producer.enqueue_many(list(kwargs["instances"]), using=kwargs["using"], created=False)
