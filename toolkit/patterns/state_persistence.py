"""The Django seam of :class:`~toolkit.patterns.state_machine.StateMachine`.

The machine decides in plain Python; this module applies a decided transition to a saved model
instance: conditional UPDATE, audit row and after-commit event, all in one transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models.query_utils import DeferredAttribute

from toolkit.core.exceptions import InvalidTransition

if TYPE_CHECKING:
    from django.db.models import Field, Model

    from toolkit.patterns.state_machine import StateMachine, Transition

__all__ = [
    "apply_to_model",
    "audit_user_id",
    "machine_writes",
    "protect_state_field",
    "transition_event_name",
]

#: True while a state machine (or ``refresh_from_db``) sets a protected state field.
_machine_writing: ContextVar[bool] = ContextVar("toolkit_machine_writing", default=False)


@contextmanager
def machine_writes() -> Iterator[None]:
    """Let the code in the block set protected state fields (the machine's own writes)."""
    token = _machine_writing.set(True)
    try:
        yield
    finally:
        _machine_writing.reset(token)


def protect_state_field(machine: StateMachine) -> None:
    """Refuse direct assignments to ``machine.model``'s state field (``Meta.protected``).

    The field's descriptor is replaced by one that lets the first value in (``__init__``,
    loading from the database) and the machine's own writes, and raises
    :class:`InvalidTransition` for any other change. ``refresh_from_db`` may still reload it.
    """
    model = machine.model
    assert model is not None
    field = model._meta.get_field(machine.state_field)
    current = model.__dict__.get(field.attname)
    if type(current) not in (DeferredAttribute, ProtectedStateAttribute):
        raise ImproperlyConfigured(
            f"{type(machine).__name__}: Meta.protected needs a plain field for "
            f"{model._meta.label}.{field.attname}, which uses {type(current).__name__}"
        )
    setattr(model, field.attname, ProtectedStateAttribute(field, machine))
    if not getattr(model.refresh_from_db, "_toolkit_reloads_state", False):
        original = model.refresh_from_db

        @functools.wraps(original)
        def refresh_from_db(self: Model, *args: Any, **kwargs: Any) -> None:
            with machine_writes():
                original(self, *args, **kwargs)

        refresh_from_db._toolkit_reloads_state = True  # type: ignore[attr-defined]
        model.refresh_from_db = refresh_from_db


class ProtectedStateAttribute(DeferredAttribute):
    """The descriptor of a protected state field: reads as usual, refuses direct changes."""

    def __init__(self, field: Field[Any, Any], machine: StateMachine) -> None:
        super().__init__(field)
        self.machine = machine

    def __set__(self, instance: Model, value: Any) -> None:
        data = instance.__dict__
        name = self.field.attname
        if (
            name in data
            and data[name] != value
            and not _machine_writing.get()
            # An expression (``db_default``) is replaced by the value the INSERT returned.
            and not hasattr(data[name], "resolve_expression")
        ):
            current = data[name]
            allowed = self.machine._from_state.get(current, ())
            choices = ", ".join(repr(a) for a in sorted(allowed)) or "none"
            raise InvalidTransition(
                "(direct assignment)",
                current,
                allowed,
                message=(
                    f"Cannot set {instance._meta.label}.{name} from {current!r} to {value!r} "
                    f"directly: it is protected by state machine {self.machine.name!r}; "
                    f"trigger a transition instead (from {current!r}: {choices})"
                ),
            )
        data[name] = value


def transition_event_name(entity: Model, transition: Transition) -> str:
    """The bus event of a transition: ``"<model_name>.<transition>"``, e.g. ``"order.pay"``."""
    return f"{entity._meta.model_name}.{transition.name}"


def audit_user_id(user: Any) -> Any:
    """The user's primary key for the audit row; anonymous or unsaved users record none."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "pk", None)


def apply_to_model(
    machine: StateMachine,
    transition: Transition,
    entity: Model,
    from_state: Any,
    user: Any,
    reason: str,
    metadata: dict[str, Any],
    *,
    check: Callable[[], None],
) -> None:
    """Run ``check`` (permission, guards), move the row from ``from_state`` to the target,
    audit it and emit after commit, in one transaction.

    The UPDATE matches only a row still in ``from_state``, so of two concurrent triggers
    from the same state exactly one changes it; the other finds 0 rows, writes nothing and
    raises :class:`InvalidTransition` with the state now in the database.
    """
    from django.db import router, transaction

    metadata = _json_metadata(transition.name, metadata)
    model = type(entity)
    using = entity._state.db or router.db_for_write(model, instance=entity)
    field = machine.state_field
    manager = model._default_manager.db_manager(using)
    with transaction.atomic(using=using):
        check()
        updated = manager.filter(pk=entity.pk, **{field: from_state}).update(
            **{field: transition.target}
        )
        if updated == 0:
            current = manager.filter(pk=entity.pk).values_list(field, flat=True).first()
            raise InvalidTransition(
                transition.name,
                current,
                machine._from_state.get(current, ()),
                message=(
                    f"Cannot {transition.name!r} {model._meta.label}#{entity.pk}: it is no "
                    f"longer in state {from_state!r} (now {current!r}); nothing was written"
                ),
            )
        if machine.audit_enabled():
            # Imported here: toolkit.patterns must import before django.setup().
            from toolkit.models import StateTransitionAudit

            StateTransitionAudit.objects.using(using).create(
                model=model._meta.label_lower,
                object_id=str(entity.pk),
                machine=machine.name,
                transition=transition.name,
                from_state=str(from_state),
                to_state=str(transition.target),
                user_id=audit_user_id(user),
                reason=reason,
                metadata=metadata,
            )
        with machine_writes():
            setattr(entity, field, transition.target)
        payload = {
            "model": model._meta.label_lower,
            "object_id": str(entity.pk),
            "machine": machine.name,
            "transition": transition.name,
            "from_state": from_state,
            "to_state": transition.target,
            "user_id": audit_user_id(user),
            "reason": reason,
        }
        event = transition_event_name(entity, transition)
        # robust: the transition is committed; a failing handler is logged by Django
        # ("django.db.backends.base") instead of turning a done transition into an error.
        transaction.on_commit(lambda: _emit(event, payload), using=using, robust=True)


def _json_metadata(transition: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """``metadata`` as the audit row stores it, checked by the toolkit's one set of JSON rules
    before any write. Datetimes, dates, times, durations, decimals, UUIDs and lazy strings are
    encoded by Django's ``DjangoJSONEncoder`` (ISO 8601 text, so the same value on SQLite and
    PostgreSQL); anything else that is not JSON raises ``ValidationError`` naming its path."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    from toolkit.core.validation import check_json

    encoder = DjangoJSONEncoder(ensure_ascii=False, allow_nan=False)
    check_json(metadata, what="metadata", owner=transition, default=encoder.default)
    decoded: dict[str, Any] = json.loads(encoder.encode(metadata))
    return decoded


def _emit(event: str, payload: dict[str, Any]) -> None:
    from toolkit.patterns.observer import default_bus

    default_bus.emit(event, payload)
