"""Model mixins: ``MasterMixin`` publishes changes, ``ReplicaMixin`` receives them.

.. code-block:: python

    class Product(MasterMixin, models.Model):
        CQRS_ID = "product"
        name = models.CharField(max_length=100)

    class ProductReplica(ReplicaMixin, models.Model):
        CQRS_ID = "product"
        id = models.BigIntegerField(primary_key=True)
        name = models.CharField(max_length=100)
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, router, transaction
from django.db.models import F
from django.db.models.signals import class_prepared
from django.utils import timezone
from django.utils.module_loading import import_string

from toolkit.cqrs.constants import ALL_FIELDS, REVISION_FIELD, UPDATED_FIELD, SignalType
from toolkit.cqrs.managers import MasterManager, ReplicaManager
from toolkit.cqrs.registries import MasterRegistry, ReplicaRegistry
from toolkit.cqrs.signals import MasterSignals, post_bulk_create, post_update


def _json_ready(data: Any) -> Any:
    """Round-trip through JSON so dates, decimals and UUIDs become what the replica receives."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


class RawMasterMixin(models.Model):
    """Base class for MasterMixin. Users shouldn't use this class directly.

    A model using it directly must declare ``cqrs_revision`` (an integer, default 0) and
    ``cqrs_updated`` (a datetime) itself.
    """

    #: Unique CQRS identifier for all microservices.
    CQRS_ID: ClassVar[str | None] = None
    #: If false, no cqrs data is sent through the transport.
    CQRS_PRODUCE: ClassVar[bool] = True
    #: Fields to include in the payload, or ``"__all__"``.
    CQRS_FIELDS: ClassVar[str | list[str] | tuple[str, ...]] = ALL_FIELDS
    #: Dotted path of a serializer class: ``Serializer(instance).data`` is the payload.
    CQRS_SERIALIZER: ClassVar[str | None] = None
    #: Fields whose previous values are sent as ``previous_data``, or ``"__all__"``.
    CQRS_TRACKED_FIELDS: ClassVar[str | list[str] | tuple[str, ...] | None] = None

    objects = models.Manager()
    #: Manager that adds needed CQRS queryset methods.
    cqrs = MasterManager()

    class Meta:
        abstract = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cqrs_saves_count = 0
        self._save_tracked_fields()

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, bumping ``cqrs_revision`` atomically (``F() + 1``) once per transaction."""
        from toolkit.cqrs import producer

        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        if transaction.get_connection(using).in_atomic_block:
            self._cqrs_saves_count = self.cqrs_saves_count + 1
        else:
            self.reset_cqrs_saves_count()
        bump = not self._state.adding and producer.claim_revision_bump(self, using=using)
        if bump:
            setattr(self, REVISION_FIELD, F(REVISION_FIELD) + 1)
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, REVISION_FIELD, UPDATED_FIELD}
        super().save(*args, **kwargs)
        if bump:
            # Read back the value the database computed for F("cqrs_revision") + 1.
            self.refresh_from_db(fields=[REVISION_FIELD], using=using)

    # -- transaction bookkeeping ------------------------------------------------------------
    @property
    def cqrs_saves_count(self) -> int:
        """Shows how many times this instance has been saved within the transaction."""
        return getattr(self, "_cqrs_saves_count", 0)

    @property
    def is_initial_cqrs_save(self) -> bool:
        """Whether the instance has not been registered for a CQRS update in this transaction."""
        return self.cqrs_saves_count < 2

    def reset_cqrs_saves_count(self) -> None:
        """Reset the CQRS save counter (done automatically on commit)."""
        self._cqrs_saves_count = 0

    # -- serialisation ----------------------------------------------------------------------
    @classmethod
    def _cqrs_field_names(cls) -> list[str]:
        concrete = [f.attname for f in cls._meta.concrete_fields]
        if cls.CQRS_FIELDS == ALL_FIELDS:
            return concrete
        names = list(cls.CQRS_FIELDS)
        by_name = {f.name: f.attname for f in cls._meta.concrete_fields}
        by_name.update({f.attname: f.attname for f in cls._meta.concrete_fields})
        unknown = [n for n in names if n not in by_name]
        if unknown:
            valid = ", ".join(repr(n) for n in sorted(by_name))
            raise ImproperlyConfigured(
                f"{cls._meta.label}.CQRS_FIELDS names unknown field(s) "
                f"{', '.join(repr(n) for n in unknown)}; fields are: {valid}"
            )
        result = [by_name[n] for n in names]
        for required in (cls._meta.pk.attname, REVISION_FIELD, UPDATED_FIELD):
            if required not in result:
                result.append(required)
        return result

    def _current_revision(self, using: str | None) -> int:
        value = getattr(self, REVISION_FIELD)
        if not isinstance(value, int):
            self.refresh_from_db(fields=[REVISION_FIELD], using=using)
            value = getattr(self, REVISION_FIELD)
        return int(value)

    def to_cqrs_dict(self, using: str | None = None, sync: bool = False) -> dict[str, Any]:
        """CQRS serialization for transport payload (JSON-ready, includes ``cqrs_revision``).

        With ``CQRS_SERIALIZER`` the instance is read again through
        :meth:`relate_cqrs_serialization`, except when ``sync`` is true: a sync reads its
        instances through that queryset already, so this instance is serialised as it is.
        """
        revision = self._current_revision(using)
        if self.CQRS_SERIALIZER:
            serializer = import_string(self.CQRS_SERIALIZER)
            instance = self
            if not sync:
                queryset = self.relate_cqrs_serialization(
                    type(self)._default_manager.using(using or self._state.db or "default")
                )
                instance = queryset.get(pk=self.pk)
            data = dict(serializer(instance).data)
            data.setdefault(self._meta.pk.attname, self.pk)
            data[REVISION_FIELD] = revision
            data.setdefault(UPDATED_FIELD, getattr(self, UPDATED_FIELD, None))
        else:
            data = {name: getattr(self, name) for name in self._cqrs_field_names()}
            data[REVISION_FIELD] = revision
        result: dict[str, Any] = _json_ready(data)
        return result

    @classmethod
    def _tracked_names(cls) -> list[str]:
        tracked = cls.CQRS_TRACKED_FIELDS
        if not tracked:
            return []
        if tracked == ALL_FIELDS:
            return [f.attname for f in cls._meta.concrete_fields]
        return [cls._meta.get_field(name).attname for name in tracked]  # type: ignore[union-attr]

    def _save_tracked_fields(self) -> None:
        # Read __dict__, not getattr: a deferred field must not trigger a query (or recurse
        # through refresh_from_db, which builds instances with deferred fields).
        self._cqrs_tracked = {
            name: self.__dict__[name] for name in self._tracked_names() if name in self.__dict__
        }

    def get_tracked_fields_data(self) -> dict[str, Any] | None:
        """Previous values of the tracked fields that changed since load or the last save."""
        names = self._tracked_names()
        if not names:
            return None
        snapshot = getattr(self, "_cqrs_tracked", {})
        changed = {
            name: snapshot[name]
            for name in names
            if name in snapshot and snapshot[name] != self.__dict__.get(name)
        }
        result: dict[str, Any] = _json_ready(changed)
        return result

    # -- synchronisation --------------------------------------------------------------------
    def cqrs_sync(self, using: str | None = None, queue: str | None = None) -> bool:
        """Manual instance synchronization: send a SYNC message after commit.

        ``queue`` addresses the message to one replica queue (the others skip it). Returns
        True if the instance can be synced, False otherwise: it is unsaved, its row is gone,
        ``CQRS_PRODUCE`` is false or :meth:`is_sync_instance` says no.

        As in django-cqrs, a model without ``CQRS_SERIALIZER`` is refreshed from the database
        first; one with a serializer is sent as loaded (keeping what
        :meth:`relate_cqrs_serialization` prefetched), and if its row is gone by the time the
        message is published, the message is dropped then.
        """
        from toolkit.cqrs import producer

        if self._state.adding or not self.CQRS_PRODUCE or not self.is_sync_instance():
            return False
        db = using or self._state.db or router.db_for_write(type(self), instance=self)
        if not self.CQRS_SERIALIZER:
            try:
                self.refresh_from_db(using=db)
            except self.DoesNotExist:
                return False
        producer.enqueue(self, SignalType.SYNC, using=db, queue=queue)
        return True

    def is_sync_instance(self) -> bool:
        """Override to sync only some instances (by status, date, ...). Default: all."""
        return True

    def get_cqrs_meta(self, **kwargs: Any) -> dict[str, Any]:
        """Override to collect model/instance specific metadata for the payload's ``meta``."""
        return {}

    @classmethod
    def relate_cqrs_serialization(cls, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        """Override to add ``select_related`` / ``prefetch_related`` for the serializer."""
        return queryset

    def get_custom_cqrs_delete_data(self) -> dict[str, Any]:
        """Override to add data to the DELETE payload."""
        return {}

    @classmethod
    def call_post_bulk_create(cls, instances: list[Any], using: str | None = None) -> None:
        """Post bulk create signal caller (used automatically by ``cqrs.bulk_create()``)."""
        post_bulk_create.send(cls, instances=instances, using=using or "default")

    @classmethod
    def call_post_update(cls, instances: list[Any], using: str | None = None) -> None:
        """Post bulk update signal caller (used automatically by ``cqrs.bulk_update()``)."""
        post_update.send(cls, instances=instances, using=using or "default")


class MasterMixin(RawMasterMixin):
    """Mixin for the master CQRS model, that will send data updates to its replicas."""

    cqrs_revision = models.IntegerField(default=0, editable=False)
    cqrs_updated = models.DateTimeField(auto_now=True, db_index=True, editable=False)

    class Meta:
        abstract = True


class ReplicaMixin(models.Model):
    """Mixin for the replica CQRS model, that will receive data updates from master.

    Models using this mixin should be read-only, but this is not enforced (f.e. for admin).
    """

    #: Unique CQRS identifier for all microservices.
    CQRS_ID: ClassVar[str | None] = None
    #: Mapping of master data field name to replica model field name.
    CQRS_MAPPING: ClassVar[dict[str, str] | None] = None
    #: Set it to True to skip default data check (then override cqrs_create/cqrs_update).
    CQRS_CUSTOM_SERIALIZATION: ClassVar[bool] = False
    #: Set it to True to acquire lock on instance creation/update.
    CQRS_SELECT_FOR_UPDATE: ClassVar[bool] = False
    #: Set it to True to disable any default DB operations for this model.
    CQRS_NO_DB_OPERATIONS: ClassVar[bool] = False
    #: Set it to True to receive meta data for this model.
    CQRS_META: ClassVar[bool] = False

    cqrs_revision = models.IntegerField(default=0)
    cqrs_updated = models.DateTimeField(default=timezone.now)

    objects = models.Manager()
    #: Manager that adds needed CQRS queryset methods.
    cqrs = ReplicaManager()

    class Meta:
        abstract = True

    @classmethod
    def cqrs_save(
        cls,
        master_data: dict[str, Any],
        previous_data: dict[str, Any] | None = None,
        sync: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> Any:
        """Save (create or update) the instance from CQRS master instance data."""
        return cls.cqrs.save_instance(master_data, previous_data, sync=sync, meta=meta)

    @classmethod
    def cqrs_create(
        cls,
        sync: bool,
        mapped_data: dict[str, Any],
        previous_data: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Any:
        """Create the instance from mapped data (override with custom serialization)."""
        if cls.CQRS_CUSTOM_SERIALIZATION:
            raise ImproperlyConfigured(
                f"{cls._meta.label} sets CQRS_CUSTOM_SERIALIZATION = True, so it must "
                "override cqrs_create() and cqrs_update()"
            )
        return cls._default_manager.create(**mapped_data)

    def cqrs_update(
        self,
        sync: bool,
        mapped_data: dict[str, Any],
        previous_data: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Any:
        """Update this instance from mapped data (override with custom serialization)."""
        if self.CQRS_CUSTOM_SERIALIZATION:
            raise ImproperlyConfigured(
                f"{self._meta.label} sets CQRS_CUSTOM_SERIALIZATION = True, so it must "
                "override cqrs_create() and cqrs_update()"
            )
        for name, value in mapped_data.items():
            setattr(self, name, value)
        self.save()
        return self

    @classmethod
    def cqrs_delete(cls, master_data: dict[str, Any], meta: dict[str, Any] | None = None) -> bool:
        """Delete the instance named by ``master_data``; True even if nothing was deleted."""
        return bool(cls.cqrs.delete_instance(master_data))


def _register_cqrs_model(sender: type[Any], **kwargs: Any) -> None:
    """Register every concrete master/replica model with a CQRS_ID as it is defined."""
    meta = sender._meta
    if meta.abstract or meta.proxy or not getattr(sender, "CQRS_ID", None):
        return
    if issubclass(sender, RawMasterMixin):
        MasterRegistry.register_model(sender)
        MasterSignals.register_model(sender)
    elif issubclass(sender, ReplicaMixin):
        ReplicaRegistry.register_model(sender)


class_prepared.connect(_register_cqrs_model, dispatch_uid="toolkit.cqrs.register")
