"""Selectors and the one service behind every "trigger a transition" button of the panel.

The panel page (:mod:`patterns_admin.views.transitions`), the Django admin change page and the
changelist's bulk action (:mod:`patterns_admin.admin_transitions`) all call
:func:`trigger_transition`, so permission checks, error messages and the action log are the
same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.http import Http404

from patterns_admin.audit import record_action
from patterns_admin.permissions import TRIGGER_TRANSITION
from toolkit.core.exceptions import PatternError
from toolkit.registry import machine_for_model

#: Transition history rows shown for one object.
HISTORY_LIMIT = 50

AnyUser = AbstractBaseUser | AnonymousUser

__all__ = [
    "TRIGGER_TRANSITION",
    "MachineObject",
    "TriggerOutcome",
    "machine_object",
    "model_with_machine",
    "transition_checks",
    "transition_history",
    "trigger_transition",
]


@dataclass(frozen=True)
class MachineObject:
    """An object together with the state machine that drives its model."""

    model: type[models.Model]
    machine: Any
    obj: models.Model

    @property
    def state(self) -> str:
        """The object's current state (the machine's state field)."""
        return str(getattr(self.obj, self.machine.state_field))

    @property
    def label(self) -> str:
        """``app_label.model_name``, as stored in ``StateTransitionAudit.model``."""
        return self.model._meta.label_lower


@dataclass(frozen=True)
class TriggerOutcome:
    """What happened when a user asked for a transition: ``ok`` and a sentence saying so."""

    ok: bool
    message: str
    transition: str
    from_state: str
    to_state: str | None = None


def model_with_machine(app_label: str, model_name: str) -> tuple[type[models.Model], Any]:
    """The model ``app_label.model_name`` and its registered machine, or :class:`Http404`."""
    try:
        model = apps.get_model(app_label, model_name)
    except (LookupError, ValueError) as exc:
        raise Http404(f"Unknown model {app_label}.{model_name}") from exc
    machine = machine_for_model(model)
    if machine is None:
        raise Http404(f"No state machine drives {model._meta.label}")
    return model, machine


def machine_object(app_label: str, model_name: str, pk: str) -> MachineObject:
    """Look up the object ``pk`` of a model with a state machine, or raise :class:`Http404`."""
    model, machine = model_with_machine(app_label, model_name)
    try:
        obj = model._default_manager.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404(f"No {model._meta.label} with pk {pk!r}") from exc
    return MachineObject(model=model, machine=machine, obj=obj)


def transition_checks(target: MachineObject, user: AnyUser) -> dict[str, list[Any]]:
    """Split the machine's transitions for ``user`` into what the panel shows.

    ``allowed``: may be triggered now; ``blocked``: leave the current state but a guard or a
    permission stops them (with the reason); ``elsewhere``: start from other states.
    """
    state = target.state
    groups: dict[str, list[Any]] = {"allowed": [], "blocked": [], "elsewhere": []}
    for check in target.machine.check_transitions(target.obj, user=user):
        if check.allowed:
            groups["allowed"].append(check)
        elif state in tuple(check.transition.sources):
            groups["blocked"].append(check)
        else:
            groups["elsewhere"].append(check)
    return groups


def transition_history(target: MachineObject, *, limit: int = HISTORY_LIMIT) -> list[Any]:
    """The object's newest transition audit rows (one query, users joined)."""
    from toolkit.models import StateTransitionAudit  # the toolkit app must be ready

    rows = StateTransitionAudit.objects.filter(
        model=target.label, object_id=str(target.obj.pk)
    ).select_related("user")
    return list(rows.order_by("-created_at", "-id")[:limit])


def trigger_transition(
    target: MachineObject, name: str, *, user: AnyUser, reason: str = ""
) -> TriggerOutcome:
    """Trigger ``name`` on the object for ``user`` and record the attempt in the action log.

    The caller has checked ``patterns_admin.trigger_transition``; the machine checks the
    source state, the guards and the transition's own permission. Toolkit errors become a
    failed outcome with their message; nothing is written when it fails, except the
    action-log row.
    """
    from_state = target.state
    action_target = f"{target.label}#{target.obj.pk}"
    try:
        target.machine.trigger(target.obj, name, user=user, reason=reason.strip())
    except PatternError as exc:
        outcome = TriggerOutcome(False, str(exc), name, from_state)
    else:
        to_state = target.state
        outcome = TriggerOutcome(
            True, f"{name}: {from_state} → {to_state}", name, from_state, to_state
        )
    record_action(
        user=user,
        action="trigger_transition",
        target=action_target,
        detail={
            "machine": target.machine.name,
            "transition": name,
            "from_state": from_state,
            "to_state": outcome.to_state,
            "reason": reason.strip(),
            "message": outcome.message,
        },
        success=outcome.ok,
    )
    return outcome
