"""Managers: ``MasterManager`` (bulk writes that publish) and ``ReplicaManager`` (apply data)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import DatabaseError, models, transaction
from django.db.models import F
from django.utils import timezone

from toolkit.cqrs.constants import REVISION_FIELD, UPDATED_FIELD
from toolkit.cqrs.exceptions import MalformedMessage

logger = logging.getLogger("toolkit.cqrs.replica")


_field_names: dict[type[Any], frozenset[str]] = {}


def field_names(model: type[Any]) -> frozenset[str]:
    """The names and attnames of ``model``'s concrete fields (computed once per model)."""
    names = _field_names.get(model)
    if names is None:
        fields = model._meta.concrete_fields
        names = frozenset({f.name for f in fields} | {f.attname for f in fields})
        _field_names[model] = names
    return names


class MasterManager(models.Manager[Any]):
    """The ``cqrs`` manager of master models: bulk writes that do publish."""

    def bulk_create(self, objs: Iterable[Any], *args: Any, **kwargs: Any) -> list[Any]:
        """Custom bulk create method to support sending of create signals.

        This can be used only in cases, when IDs are generated on client or DB returns IDs
        (PostgreSQL, SQLite >= 3.35). One SAVE message per instance is sent after commit.
        """
        from toolkit.cqrs.exceptions import CqrsError

        using = self.db
        with transaction.atomic(using=using, savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            missing = [obj for obj in created if obj.pk is None]
            if missing:
                raise CqrsError(
                    f"{self.model._meta.label}.cqrs.bulk_create() got no primary keys back "
                    f"for {len(missing)} instance(s); set the pks or use a database that "
                    "returns them (PostgreSQL, SQLite >= 3.35)"
                )
            self.model.call_post_bulk_create(created, using=using)
        return created

    # django-cqrs' signature (a queryset and field values), not Django's (objs, fields).
    def bulk_update(self, queryset: models.QuerySet[Any], **kwargs: Any) -> int:  # type: ignore[override]
        """Custom update method to support sending of update signals.

        ``Product.cqrs.bulk_update(Product.objects.filter(active=True), price=10)`` updates the
        rows, bumps their ``cqrs_revision`` once per transaction and sends one SAVE message
        per updated instance after commit, whose ``previous_data`` holds the tracked fields
        (``CQRS_TRACKED_FIELDS``) the update changed. Returns the number of rows updated.
        """
        from toolkit.cqrs import producer

        model = self.model
        using = queryset.db
        with transaction.atomic(using=using, savepoint=False):
            pks = list(queryset.select_for_update().values_list("pk", flat=True))
            if not pks:
                return 0
            bump = set(producer.claim_revision_bumps(model, pks, using=using))
            # Tracked fields' values before the update become the messages' previous_data.
            tracked = model._tracked_names()
            before = (
                {
                    row[model._meta.pk.attname]: row
                    for row in model._default_manager.using(using)
                    .filter(pk__in=pks)
                    .values(*dict.fromkeys([model._meta.pk.attname, *tracked]))
                }
                if tracked
                else {}
            )
            kwargs.setdefault(UPDATED_FIELD, timezone.now())
            rows = model._default_manager.using(using).filter(pk__in=pks)
            if len(bump) == len(pks):
                updated = rows.update(**kwargs, **{REVISION_FIELD: F(REVISION_FIELD) + 1})
            else:
                updated = rows.update(**kwargs)
                if bump:
                    rows.filter(pk__in=bump).update(**{REVISION_FIELD: F(REVISION_FIELD) + 1})
            instances = list(model.relate_cqrs_serialization(rows.all()))
            for instance in instances:
                if instance.pk in before:
                    instance._cqrs_tracked = {name: before[instance.pk][name] for name in tracked}
            model.call_post_update(instances, using=using)
        return int(updated)


class ReplicaManager(models.Manager[Any]):
    """The ``cqrs`` manager of replica models: create, update and delete from master data."""

    def _map(self, data: dict[str, Any] | None) -> dict[str, Any] | None:
        if data is None:
            return None
        model = self.model
        if model.CQRS_CUSTOM_SERIALIZATION:
            return dict(data)
        mapping = model.CQRS_MAPPING or {}
        names = field_names(model)
        # django-cqrs sends a foreign key under its field name ("content_type") with the
        # related pk as the value: assign it through the attname ("content_type_id").
        relations = {
            f.name: f.attname
            for f in model._meta.concrete_fields
            if f.is_relation and f.name != f.attname
        }
        mapped: dict[str, Any] = {}
        for key, value in data.items():
            target = mapping.get(key, key)
            if target in names:
                if target in relations and not isinstance(value, models.Model):
                    target = relations[target]
                mapped[target] = value
        return mapped

    def _pk_value(self, data: dict[str, Any], *, keys: tuple[str, ...] = ()) -> Any:
        pk = self.model._meta.pk
        for key in (*keys, pk.attname, pk.name):
            if key in data:
                return data[key]
        mapping = self.model.CQRS_MAPPING or {}
        for master_key, replica_key in mapping.items():
            if replica_key in (pk.attname, pk.name) and master_key in data:
                return data[master_key]
        raise MalformedMessage(
            f"instance data for {self.model._meta.label} lacks its primary key "
            f"{pk.attname!r}: {sorted(data)!r}"
        )

    def save_instance(
        self,
        master_data: dict[str, Any],
        previous_data: dict[str, Any] | None = None,
        sync: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> Any:
        """Save (create or update) the model instance from CQRS master instance data."""
        model = self.model
        if model.CQRS_NO_DB_OPERATIONS:
            raise ImproperlyConfigured(
                f"{model._meta.label} sets CQRS_NO_DB_OPERATIONS = True, so it must override "
                "cqrs_save() and cqrs_delete()"
            )
        mapped = self._map(master_data)
        assert mapped is not None
        previous = self._map(previous_data)
        pk_value = self._pk_value(mapped if not model.CQRS_CUSTOM_SERIALIZATION else master_data)
        queryset = model._default_manager.using(self.db)
        if model.CQRS_SELECT_FOR_UPDATE:
            queryset = queryset.select_for_update()
        instance = queryset.filter(pk=pk_value).first()
        if instance is None:
            return self.create_instance(mapped, previous, sync=sync, meta=meta)
        return self.update_instance(instance, mapped, previous, sync=sync, meta=meta)

    def create_instance(
        self,
        mapped_data: dict[str, Any],
        previous_data: dict[str, Any] | None = None,
        sync: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> Any:
        """Create the model instance from mapped CQRS master instance data.

        ``meta`` reaches ``cqrs_create`` only when the model sets ``CQRS_META = True``.
        """
        meta = meta if self.model.CQRS_META else None
        return self._logged(
            "create",
            mapped_data,
            lambda: self.model.cqrs_create(
                sync, mapped_data, previous_data=previous_data, meta=meta
            ),
        )

    def _logged(self, what: str, mapped_data: dict[str, Any], write: Any) -> Any:
        """Run ``write`` in a savepoint; a database or validation error is logged and None
        returned (django-cqrs' contract: the consumer then hands the message to retry)."""
        try:
            with transaction.atomic(using=self.db):
                return write()
        except (DatabaseError, ValidationError) as exc:
            from toolkit.cqrs.consumer import last_replica_error

            last_replica_error.set(f"{type(exc).__name__}: {exc}")
            logger.error(
                "%s\nCQRS %s error: pk = %s, cqrs_revision = %s (%s).",
                exc,
                what,
                mapped_data.get(self.model._meta.pk.name, mapped_data.get("id")),
                mapped_data.get(REVISION_FIELD),
                self.model.CQRS_ID,
            )
            return None

    def update_instance(
        self,
        instance: Any,
        mapped_data: dict[str, Any],
        previous_data: dict[str, Any] | None = None,
        sync: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> Any:
        """Update ``instance`` from mapped CQRS master instance data.

        The replica's own ``cqrs_revision`` is checked first, so calling ``cqrs_save``
        directly is as safe as consuming: data with a lower revision than the instance holds
        is ignored (logged), and so is the same revision unless ``sync`` is set; a revision
        more than one ahead is applied with a warning about the lost messages. ``meta``
        reaches ``cqrs_update`` only when the model sets ``CQRS_META = True``.
        """
        model = self.model
        label, pk = model.CQRS_ID, instance.pk
        incoming = mapped_data.get(REVISION_FIELD)
        held = getattr(instance, REVISION_FIELD, None)
        if isinstance(incoming, int) and isinstance(held, int):
            if held > incoming:
                log = logger.warning if sync else logger.error
                log(
                    "CQRS %s for %s#%s: revision %d is older than the held %d%s",
                    "sync downgrade" if sync else "wrong order",
                    label,
                    pk,
                    incoming,
                    held,
                    "" if sync else "; ignored",
                )
                if not sync:
                    return instance
            elif held == incoming and not sync:
                logger.info("CQRS duplicate for %s#%s: revision %d ignored", label, pk, incoming)
                return instance
            elif incoming > held + 1 and not sync:
                logger.warning(
                    "CQRS lost %d message(s) for %s#%s: held revision %d, received %d",
                    incoming - held - 1,
                    label,
                    pk,
                    held,
                    incoming,
                )
        meta = meta if model.CQRS_META else None
        return self._logged(
            "update",
            mapped_data,
            lambda: instance.cqrs_update(sync, mapped_data, previous_data=previous_data, meta=meta),
        )

    def delete_instance(self, master_data: dict[str, Any]) -> bool:
        """Delete the instance named by ``master_data``; True even if nothing was deleted."""
        model = self.model
        if model.CQRS_NO_DB_OPERATIONS:
            raise ImproperlyConfigured(
                f"{model._meta.label} sets CQRS_NO_DB_OPERATIONS = True, so it must override "
                "cqrs_save() and cqrs_delete()"
            )
        # A DELETE carries the pk under "id" whatever the pk field is called (django-cqrs).
        pk_value = self._pk_value(master_data, keys=("id",))
        model._default_manager.using(self.db).filter(pk=pk_value).delete()
        return True
