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
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, router, transaction
from django.db.models import F
from django.db.models.expressions import BaseExpression
from django.db.models.signals import class_prepared
from django.utils import timezone
from django.utils.module_loading import import_string

from toolkit.cqrs.constants import ALL_FIELDS, REVISION_FIELD, UPDATED_FIELD, SignalType
from toolkit.cqrs.managers import MasterManager, ReplicaManager
from toolkit.cqrs.registries import MasterRegistry, ReplicaRegistry
from toolkit.cqrs.signals import MasterSignals, post_bulk_create, post_update


class _WireEncoder(DjangoJSONEncoder):
    """What django-cqrs' ujson does to values it meets: a Decimal becomes a JSON number."""

    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o)
        return super().default(o)


def _json_ready(data: Any) -> Any:
    """Round-trip through JSON so values become what the replica receives (and the outbox
    row, a JSON column, can hold them)."""
    return json.loads(json.dumps(data, cls=_WireEncoder))


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
        self._snapshot_tracked_fields()

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, bumping ``cqrs_revision`` (``F() + 1``) once per transaction.

        Outside a transaction (plain autocommit) the save runs in one of its own: the
        ``UPDATE`` that bumps the revision locks the row until the read-back of the new
        revision and the outbox row holding this revision's data are committed with it. In
        two autocommit statements a second writer could slip in between, and both writers
        would publish their own data under the same revision (the replica keeps one of them
        and silently diverges from the master).
        """
        update_cqrs_fields = kwargs.pop("update_cqrs_fields", None)
        if update_cqrs_fields is None:
            update_cqrs_fields = self._update_cqrs_fields_default
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        if not transaction.get_connection(using).in_atomic_block:
            with transaction.atomic(using=using):
                self._cqrs_save(update_cqrs_fields, *args, db=using, **kwargs)
            return
        self._cqrs_save(update_cqrs_fields, *args, db=using, **kwargs)

    @property
    def _update_cqrs_fields_default(self) -> bool:
        """``CQRS["master"]["CQRS_AUTO_UPDATE_FIELDS"]`` (django-cqrs' default for
        ``save(update_fields=..., update_cqrs_fields=...)``)."""
        from toolkit.cqrs.conf import cqrs_settings

        return cqrs_settings().auto_update_fields

    def _cqrs_save(self, update_cqrs_fields: bool, *args: Any, db: str, **kwargs: Any) -> None:
        from toolkit.cqrs import producer

        using = db

        self._cqrs_saves_count = self.cqrs_saves_count + 1
        update_fields = kwargs.get("update_fields")
        # As django-cqrs: ``save(update_fields=[...])`` leaves the revision alone and sends
        # nothing, unless ``update_cqrs_fields`` (or CQRS_AUTO_UPDATE_FIELDS) asks for both.
        wants_bump = not update_fields or update_cqrs_fields
        bump = (
            wants_bump
            and not self._state.adding
            and producer.claim_revision_bump(self, using=using)
        )
        if bump:
            setattr(self, REVISION_FIELD, F(REVISION_FIELD) + 1)
        if update_fields and update_cqrs_fields:
            kwargs["update_fields"] = {*update_fields, REVISION_FIELD, UPDATED_FIELD}
        self.save_tracked_fields()
        super().save(*args, **kwargs)
        if bump and isinstance(self.__dict__.get(REVISION_FIELD), BaseExpression):
            # Read back the value the database computed for F("cqrs_revision") + 1, in the
            # transaction whose UPDATE still holds the row lock (unless publishing it in
            # post_save has read it already).
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
    def _cqrs_fields(cls) -> list[Any]:
        """The fields serialised into ``instance_data`` (``CQRS_FIELDS``, by field name)."""
        fields = list(cls._meta.fields)
        if cls.CQRS_FIELDS == ALL_FIELDS:
            return fields
        names = list(cls.CQRS_FIELDS)
        by_name = {f.name: f for f in fields}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            valid = ", ".join(repr(n) for n in sorted(by_name))
            raise ImproperlyConfigured(
                f"{cls._meta.label}.CQRS_FIELDS names unknown field(s) "
                f"{', '.join(repr(n) for n in unknown)}; fields are: {valid}"
            )
        return [f for f in fields if f.name in names]

    def _refresh_f_expr_values(self, using: str | None) -> None:
        """Reload the fields that still hold an expression (``F("stock") - 1``) after a save.

        Their value is only known to the database; django-cqrs refreshes them the same way.
        """
        stale = [
            f.attname
            for f in self._meta.concrete_fields
            if isinstance(self.__dict__.get(f.attname), BaseExpression)
        ]
        if stale:
            self.refresh_from_db(fields=stale, using=using)

    def _common_serialization(self, using: str | None) -> dict[str, Any]:
        """django-cqrs' serialisation: each field under its name (a foreign key under
        ``content_type``, its value the related pk), dates, datetimes and UUIDs as ``str()``."""
        data: dict[str, Any] = {}
        for f in self._cqrs_fields():
            value = f.value_from_object(self)
            if value is not None and isinstance(f, models.DateField | models.UUIDField):
                value = str(value)
            data[f.name] = value
        data[REVISION_FIELD] = getattr(self, REVISION_FIELD)
        data[UPDATED_FIELD] = str(getattr(self, UPDATED_FIELD))
        return data

    def to_cqrs_dict(self, using: str | None = None, sync: bool = False) -> dict[str, Any]:
        """CQRS serialization for transport payload (JSON-ready, includes ``cqrs_revision``).

        Without ``CQRS_SERIALIZER``: django-cqrs' field-by-field serialisation, after
        reloading fields that hold ``F()`` expressions. With it: the instance is read again
        through :meth:`relate_cqrs_serialization` (except for a SYNC, which read it through
        that queryset already) and ``Serializer(instance).data`` is the payload.
        """
        if self.CQRS_SERIALIZER:
            serializer = import_string(self.CQRS_SERIALIZER)
            instance = self
            if not sync:
                queryset = self.relate_cqrs_serialization(
                    type(self)._default_manager.using(using or self._state.db or "default")
                )
                instance = queryset.get(pk=self.pk)
            data = dict(serializer(instance).data)
            data[REVISION_FIELD] = getattr(instance, REVISION_FIELD)
            data[UPDATED_FIELD] = str(getattr(instance, UPDATED_FIELD))
        else:
            self._refresh_f_expr_values(using)
            data = self._common_serialization(using)
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

    def _snapshot_tracked_fields(self) -> None:
        """Remember the tracked values as loaded or as last published."""
        # Read __dict__, not getattr: a deferred field must not trigger a query (or recurse
        # through refresh_from_db, which builds instances with deferred fields).
        self._cqrs_tracked = {
            name: self.__dict__[name] for name in self._tracked_names() if name in self.__dict__
        }
        self.__dict__.pop("_cqrs_previous_data", None)

    def _changed_tracked_fields(self) -> dict[str, Any]:
        names = {f.attname: f.name for f in self._meta.concrete_fields}
        snapshot = getattr(self, "_cqrs_tracked", {})
        if self._state.adding:
            # django-cqrs' changed_initial(): every tracked field that has a value was None.
            return {
                names[name]: None
                for name in self._tracked_names()
                if self.__dict__.get(name) is not None
            }
        changed = {
            names[name]: snapshot[name]
            for name in self._tracked_names()
            if name in snapshot and snapshot[name] != self.__dict__.get(name)
        }
        result: dict[str, Any] = _json_ready(changed)
        return result

    def save_tracked_fields(self) -> None:
        """Store the previous values of the changed tracked fields for the next message.

        Called by ``save()`` and ``cqrs.bulk_create()`` before the write, as in django-cqrs:
        only the first save in a transaction records them, so a message sent at commit
        carries the values from before the transaction. Keys are field names (``customer``,
        not ``customer_id``); a new instance reports each tracked field that has a value as
        previously ``None``.
        """
        if self._tracked_names() and self.is_initial_cqrs_save:
            self._cqrs_previous_data = self._changed_tracked_fields()

    def get_tracked_fields_data(self) -> dict[str, Any] | None:
        """Previous values of the tracked fields that changed (``previous_data``), or None."""
        if not self._tracked_names():
            return None
        stored: dict[str, Any] | None = self.__dict__.get("_cqrs_previous_data")
        return stored if stored is not None else self._changed_tracked_fields()

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
        """Override to collect model/instance specific metadata for the payload's ``meta``.

        The default calls ``CQRS["master"]["meta_function"](obj=self, **kwargs)`` when it is
        set (django-cqrs' hook), else returns ``{}``; ``kwargs`` are ``signal_type``,
        ``instance_data`` and, for SAVE/SYNC, ``previous_data``.
        """
        from toolkit.cqrs.conf import cqrs_settings

        function = cqrs_settings().meta_function
        if function:
            return dict(function(obj=self, **kwargs))
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


class RawReplicaMixin:
    """A replica that is not a Django model: it implements ``cqrs_save`` / ``cqrs_delete``.

    Register it with ``metaclass=ReplicaMeta`` (django-cqrs' way)::

        class AuditFeed(RawReplicaMixin, metaclass=ReplicaMeta):
            CQRS_ID = "product"

            @classmethod
            def cqrs_save(cls, master_data, **kwargs):
                feed.append(master_data)
                return True
    """

    #: Unique CQRS identifier for all microservices.
    CQRS_ID: ClassVar[str | None] = None
    #: Set it to True to disable any default DB operations for this model.
    CQRS_NO_DB_OPERATIONS: ClassVar[bool] = True
    #: Set it to True to receive meta data for this model.
    CQRS_META: ClassVar[bool] = False
    #: Set it to True to apply only the SYNCs addressed to this service's queue.
    CQRS_ONLY_DIRECT_SYNCS: ClassVar[bool] = False

    @classmethod
    def cqrs_save(
        cls,
        master_data: dict[str, Any],
        previous_data: dict[str, Any] | None = None,
        sync: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> Any:
        """Apply a SAVE or SYNC; return a truthy value on success (falsy: retried)."""
        raise NotImplementedError(f"{cls.__name__} must implement cqrs_save()")

    @classmethod
    def cqrs_delete(cls, master_data: dict[str, Any], meta: dict[str, Any] | None = None) -> Any:
        """Apply a DELETE; return a truthy value on success (falsy: retried)."""
        raise NotImplementedError(f"{cls.__name__} must implement cqrs_delete()")

    @staticmethod
    def should_retry_cqrs(current_retry: int, exception: BaseException | None = None) -> bool:
        """Whether to retry the message after attempt ``current_retry`` failed.

        Default: while ``current_retry`` is below ``CQRS["replica"]["CQRS_MAX_RETRIES"]``
        (``TOOLKIT["cqrs"]["max_retries"]``). The consumer never retries past that bound,
        whatever this returns.
        """
        from toolkit.cqrs.conf import cqrs_settings

        return current_retry < cqrs_settings().max_retries

    @staticmethod
    def get_cqrs_retry_delay(current_retry: int) -> float:
        """Seconds to wait before the next attempt (``CQRS_RETRY_DELAY``)."""
        from toolkit.cqrs.conf import cqrs_settings

        return cqrs_settings().retry_delay


class ReplicaMixin(RawReplicaMixin, models.Model):
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
