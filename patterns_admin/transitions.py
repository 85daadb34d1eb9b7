"""Selectors and the one service behind every "trigger a transition" button of the panel.

The panel page (:mod:`patterns_admin.views.transitions`), the Django admin change page and the
changelist's bulk action (:mod:`patterns_admin.admin_transitions`) all call
:func:`trigger_transition`, so permission checks, error messages and the action log are the
same everywhere. Bulk runs (the panel's object list and per-state counts, the admin action)
go through :func:`bulk_selection` → :func:`bulk_preview` (a dry run, signed into a token) →
:func:`bulk_plan` → :func:`bulk_trigger`, which calls :func:`trigger_transition` per object.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.http import Http404

from patterns_admin.audit import record_action
from patterns_admin.permissions import TRIGGER_TRANSITION
from patterns_admin.selectors import Count, result_count
from toolkit.core.exceptions import PatternError
from toolkit.registry import machine_for_model

logger = logging.getLogger("patterns_admin.transitions")

#: Transition history rows shown for one object.
HISTORY_LIMIT = 50

AnyUser = AbstractBaseUser | AnonymousUser

__all__ = [
    "BULK_LIMIT",
    "TRIGGER_TRANSITION",
    "BulkInputError",
    "BulkPlan",
    "BulkPreview",
    "BulkSelection",
    "MachineObject",
    "TriggerOutcome",
    "bulk_plan",
    "bulk_preview",
    "bulk_selection",
    "bulk_trigger",
    "machine_object",
    "model_with_machine",
    "state_errors",
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


# -- bulk transitions ----------------------------------------------------------------------

#: Most objects one bulk run handles: more ids are refused; a state with more objects is
#: handled in runs of this many (lowest primary keys first). Below Django's
#: ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` (1000), so the panel's own message answers first.
BULK_LIMIT = 500
#: Blocked objects listed per reason in the preview (the counts are always exact).
PREVIEW_LISTED = 20
#: How long a preview may be executed (seconds); after that it must be previewed again.
PREVIEW_MAX_AGE = 3600
_PREVIEW_SALT = "patterns_admin.bulk_transition.preview"


class BulkInputError(ValueError):
    """Bad input for a bulk transition: ``errors`` are the sentences to show (answered 400)."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass(frozen=True)
class BulkSelection:
    """What a bulk run covers: some objects (``ids``) or every object in ``state``."""

    model: type[models.Model]
    machine: Any
    transition: Any
    ids: tuple[str, ...] = ()
    state: str = ""

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def scope(self) -> str:
        """``"state"`` (every object in :attr:`state`) or ``"ids"`` (the selected objects)."""
        return "state" if self.state else "ids"


@dataclass(frozen=True)
class BulkItem:
    """One object of a preview: its state now and whether the transition may run."""

    pk: str
    label: str
    state: str
    allowed: bool
    reason: str = ""


@dataclass(frozen=True)
class BlockedGroup:
    """Blocked objects sharing one reason: the exact count, the first few listed."""

    reason: str
    count: int
    items: list[BulkItem]

    @property
    def more(self) -> int:
        return self.count - len(self.items)


@dataclass(frozen=True)
class BulkPreview:
    """The dry run of a bulk transition: nothing was changed to compute it."""

    selection: BulkSelection
    items: list[BulkItem]
    #: Objects the selection names: the ids posted, or every object in the state.
    total: int
    #: How a state's objects were counted (:func:`~patterns_admin.selectors.result_count`):
    #: exact up to ``EXACT_COUNT_LIMIT``, else an estimate (or a lower bound); None for ids.
    total_count: Count | None = None

    @property
    def total_label(self) -> str:
        """:attr:`total` as shown: ``12``, or ``≈300000`` / ``10000+`` when not exact."""
        return str(self.total_count) if self.total_count is not None else str(self.total)

    @property
    def left_for_later_label(self) -> str:
        """:attr:`left_for_later` as shown, marked as :attr:`total_label` is."""
        counted = self.total_count
        if counted is None or counted.exact:
            return str(self.left_for_later)
        return str(Count(self.left_for_later, exact=False, lower_bound=counted.lower_bound))

    @property
    def ready(self) -> list[BulkItem]:
        return [item for item in self.items if item.allowed]

    @property
    def blocked(self) -> list[BulkItem]:
        return [item for item in self.items if not item.allowed]

    @property
    def left_for_later(self) -> int:
        """Objects in the state beyond :data:`BULK_LIMIT`, for a later run."""
        return max(0, self.total - len(self.items))

    def blocked_groups(self) -> list[BlockedGroup]:
        """The blocked objects grouped by reason, the largest group first."""
        groups: dict[str, list[BulkItem]] = {}
        for item in self.blocked:
            groups.setdefault(item.reason, []).append(item)
        ordered = sorted(groups.items(), key=lambda pair: (-len(pair[1]), pair[0]))
        return [BlockedGroup(r, len(items), items[:PREVIEW_LISTED]) for r, items in ordered]

    def token(self) -> str:
        """A signed, compressed description of what to run: the objects that may move now
        with the state each was in, and the blocked ones with their reason. Execution runs
        exactly this, so nothing outside the preview is touched; its signature stops edits.
        """
        from django.core import signing

        data = {
            "model": self.selection.label,
            "transition": self.selection.transition.name,
            "state": self.selection.state,
            "ready": [[item.pk, item.state] for item in self.ready],
            "blocked": [[item.pk, item.label, item.reason] for item in self.blocked],
        }
        return signing.dumps(data, salt=_PREVIEW_SALT, compress=True)


@dataclass(frozen=True)
class BulkPlan:
    """A preview read back from its token, to execute."""

    model: type[models.Model]
    machine: Any
    transition: str
    state: str
    ready: list[tuple[str, str]]
    blocked: list[tuple[str, str, str]]


def _clean_ids(model: type[models.Model], ids: list[str]) -> tuple[list[str], list[str]]:
    pk_field = model._meta.pk
    assert pk_field is not None
    cleaned: list[str] = []
    errors: list[str] = []
    for raw in ids:
        value = raw.strip()
        if not value:  # an empty box ("ids=") selects nothing
            continue
        if "\x00" in value:
            errors.append(f"ids: null characters are not allowed (got {value!r}).")
            continue
        try:
            pk = pk_field.to_python(value)
        except ValidationError:
            errors.append(f"ids: {value[:50]!r} is not a primary key of {model._meta.label}.")
            continue
        cleaned.append(str(pk))
    return list(dict.fromkeys(cleaned)), errors[:5]


def state_errors(machine: Any, state: str) -> list[str]:
    """``[]`` when ``state`` is one of the machine's states, else the sentence saying so."""
    if state in machine.states:
        return []
    choices = ", ".join(repr(s) for s in machine.states)
    return [f"state: {state[:50]!r} is not a state of {machine.name}; choices are: {choices}."]


def bulk_selection(
    app_label: str, model_name: str, *, transition: str, ids: list[str], state: str
) -> BulkSelection:
    """Check a bulk request's input; :class:`BulkInputError` lists everything wrong with it.

    The model needs a registered machine, ``transition`` must be one of its transitions, and
    exactly one of ``ids`` (at most :data:`BULK_LIMIT`) and ``state`` (one of its states).
    """
    try:
        model, machine = model_with_machine(app_label, model_name)
    except Http404 as exc:
        raise BulkInputError([f"model: {exc}."]) from exc
    errors: list[str] = []
    name = transition.strip()
    found = None
    names = ", ".join(repr(t.name) for t in machine.transitions) or "none"
    if not name:
        errors.append(f"transition: choose one of {names}.")
    elif "\x00" in name or name not in {t.name for t in machine.transitions}:
        errors.append(
            f"transition: {name[:50]!r} is not a transition of {machine.name}; "
            f"choices are: {names}."
        )
    else:
        found = machine.get_transition(name)
    state = state.strip()
    cleaned: list[str] = []
    if state and ids:
        errors.append("Give either ids (selected objects) or state (every object in it), not both.")
    elif state:
        errors.extend(state_errors(machine, state))
    else:
        if len(ids) > BULK_LIMIT:
            errors.append(
                f"Too many objects selected: {len(ids)}; at most {BULK_LIMIT} per run. Select "
                "fewer, or start from the state's count to handle every object in a state."
            )
        else:
            cleaned, id_errors = _clean_ids(model, ids)
            errors.extend(id_errors)
            if not cleaned and not id_errors:
                errors.append("No object selected: tick at least one object.")
    if errors:
        raise BulkInputError(errors)
    return BulkSelection(
        model=model, machine=machine, transition=found, ids=tuple(cleaned), state=state
    )


def bulk_preview(selection: BulkSelection, user: AnyUser) -> BulkPreview:
    """Dry-check the transition on every selected object for ``user``; change nothing.

    Two queries for a state (its capped count, then the first :data:`BULK_LIMIT` objects by
    primary key; a third, the planner's estimate, for a state above ``EXACT_COUNT_LIMIT``
    objects on PostgreSQL), one for ids; guards run on each object as ``trigger`` would run
    them. An id that matches no object is listed as blocked.
    """
    machine = selection.machine
    manager = selection.model._default_manager
    name = selection.transition.name
    objects: list[models.Model | str]
    counted = None
    if selection.state:
        rows = manager.filter(**{machine.state_field: selection.state}).order_by("pk")
        # Capped: an exact COUNT(*) of a state holding 300,000 of a million orders took
        # 100 ms on every preview, for a number shown only as "N are left for later".
        counted = result_count(rows)
        total = counted.value
        objects = list(rows[:BULK_LIMIT])
    else:
        found = {str(obj.pk): obj for obj in manager.filter(pk__in=selection.ids)}
        total = len(selection.ids)
        objects = [found.get(pk) or pk for pk in selection.ids]
    items = []
    for obj in objects:
        if isinstance(obj, str):
            items.append(BulkItem(obj, obj, "", False, "no such object (deleted?)"))
            continue
        state = str(getattr(obj, machine.state_field))
        try:
            check = machine.check_transition(obj, name, user)
        except Exception as exc:  # a guard's own bug blocks its object, not the preview
            logger.exception(
                "Bulk preview: checking %r on %s#%s failed", name, selection.label, obj.pk
            )
            items.append(BulkItem(str(obj.pk), str(obj), state, False, _crash(exc)))
            continue
        items.append(BulkItem(str(obj.pk), str(obj), state, check.allowed, check.reason or ""))
    return BulkPreview(selection=selection, items=items, total=total, total_count=counted)


def bulk_plan(token: str, app_label: str, model_name: str) -> BulkPlan:
    """The preview behind ``token``, for the model in the URL; :class:`BulkInputError` if the
    token is missing, edited, for another model or older than :data:`PREVIEW_MAX_AGE`."""
    from django.core import signing

    try:
        model, machine = model_with_machine(app_label, model_name)
    except Http404 as exc:
        raise BulkInputError([f"model: {exc}."]) from exc
    if not token:
        raise BulkInputError(["preview: missing; preview the transition first."])
    try:
        data = signing.loads(token, salt=_PREVIEW_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise BulkInputError(
            [f"preview: older than {PREVIEW_MAX_AGE // 60} minutes; preview again."]
        ) from exc
    except signing.BadSignature as exc:
        raise BulkInputError(["preview: not a valid preview (edited?); preview again."]) from exc
    if data.get("model") != model._meta.label_lower:
        raise BulkInputError(
            [f"preview: made for {data.get('model')!r}, not {model._meta.label_lower!r}."]
        )
    return BulkPlan(
        model=model,
        machine=machine,
        transition=str(data["transition"]),
        state=str(data.get("state", "")),
        ready=[(str(pk), str(state)) for pk, state in data["ready"]],
        blocked=[(str(pk), str(label), str(why)) for pk, label, why in data["blocked"]],
    )


def bulk_trigger(plan: BulkPlan, *, user: AnyUser, reason: str) -> Any:
    """Run a previewed bulk transition and return its report (a ``PanelActionLog`` row).

    Every object that could move at preview time is triggered through
    :func:`trigger_transition` in its own transaction, so one refusal rolls back nothing
    else. An object no longer in the state it had at preview time is reported, not
    triggered; the blocked ones are reported as skipped. The report row
    (``action="bulk_transition"``) holds one result per object.
    """
    from django.db import router, transaction

    manager = plan.model._default_manager
    using = router.db_for_write(plan.model)
    objects = {str(obj.pk): obj for obj in manager.filter(pk__in=[pk for pk, _ in plan.ready])}
    label = plan.model._meta.label_lower
    results: list[dict[str, Any]] = []
    for pk, expected in plan.ready:
        obj = objects.get(pk)
        if obj is None:
            message = "no longer exists; not triggered"
            results.append(_result(pk, pk, "refused", message, expected))
            _record_refusal(user, label, pk, plan, expected, None, message)
            continue
        target = MachineObject(model=plan.model, machine=plan.machine, obj=obj)
        if target.state != expected:
            message = (
                f"changed since the preview: was {expected!r}, now {target.state!r}; not triggered"
            )
            results.append(_result(pk, str(obj), "refused", message, expected))
            _record_refusal(user, label, pk, plan, expected, target.state, message)
            continue
        try:
            with transaction.atomic(using=using):
                outcome = trigger_transition(target, plan.transition, user=user, reason=reason)
        except Exception as exc:  # rolled back: this object is refused, the run goes on
            logger.exception("Bulk %r: %s#%s failed", plan.transition, label, pk)
            message = _crash(exc)
            results.append(_result(pk, str(obj), "refused", message, expected))
            _record_refusal(user, label, pk, plan, expected, None, message)
            continue
        status = "ok" if outcome.ok else "refused"
        results.append(_result(pk, str(obj), status, outcome.message, expected, outcome.to_state))
    for pk, obj_label, why in plan.blocked:
        results.append(_result(pk, obj_label, "skipped", f"blocked at preview: {why}", ""))
    done = sum(1 for r in results if r["status"] == "ok")
    refused = sum(1 for r in results if r["status"] == "refused")
    return record_action(
        user=user,
        action="bulk_transition",
        target=f"{label} × {len(results)}",
        detail={
            "model": label,
            "machine": plan.machine.name,
            "transition": plan.transition,
            "state": plan.state,
            "reason": reason,
            "done": done,
            "refused": refused,
            "skipped": len(plan.blocked),
            "results": results,
        },
        success=refused == 0 and done > 0,
    )


#: The message level of a bulk run's summary, by :func:`bulk_outcome` (panel and admin).
BULK_MESSAGE_LEVELS = {
    "ok": messages.SUCCESS,
    "partial": messages.WARNING,
    "failed": messages.ERROR,
}


def bulk_outcome(detail: dict[str, Any]) -> str:
    """How a bulk run went, for its colour: ``"ok"`` when every selected object moved,
    ``"partial"`` when some did (others refused, or skipped as blocked at preview),
    ``"failed"`` when none did. The panel's report and message and the admin's message use it."""
    if not detail["done"]:
        return "failed"
    return "partial" if detail["refused"] or detail["skipped"] else "ok"


def _crash(exc: Exception) -> str:
    """What the report says about an unexpected error (logged in full with its traceback)."""
    return f"failed with {type(exc).__name__}: {exc}"[:500]


def _result(
    pk: str, label: str, status: str, message: str, from_state: str, to_state: str | None = None
) -> dict[str, Any]:
    return {
        "pk": pk,
        "label": label,
        "status": status,
        "message": message,
        "from_state": from_state,
        "to_state": to_state,
    }


def _record_refusal(
    user: AnyUser,
    label: str,
    pk: str,
    plan: BulkPlan,
    expected: str,
    current: str | None,
    message: str,
) -> None:
    record_action(
        user=user,
        action="trigger_transition",
        target=f"{label}#{pk}",
        detail={
            "machine": plan.machine.name,
            "transition": plan.transition,
            "from_state": expected,
            "current_state": current,
            "message": message,
        },
        success=False,
    )
