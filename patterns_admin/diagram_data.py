"""Selectors of the diagram pages: registered machines, objects per state, an object's path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.http import Http404

from patterns_admin import selectors
from patterns_admin.selectors import Count, result_counts
from toolkit.registry import RegistryError, machines


@dataclass(frozen=True)
class ObjectPath:
    """Where one object is and how it got there (oldest transition first)."""

    obj: Any
    current: str
    steps: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """``(from_state, to_state)`` of every step, for ``machine.to_dot(path=...)``."""
        return [(source, target) for _, source, target in self.steps]


def transition_rows(machine: Any) -> list[dict[str, Any]]:
    """The machine's transitions as plain data for templates.

    Guards are callables, and Django templates call callables, so their names and
    explanations are copied out here.
    """
    return [
        {
            "name": t.name,
            "sources": ", ".join(t.sources),
            "target": t.target,
            "guards": [(g.name, g.explanation or "") for g in t.guards],
            "permission": t.permission_name or "",
        }
        for t in machine.transitions
    ]


def get_machine(name: str) -> Any:
    """The registered machine ``name`` or :class:`Http404` listing the registered names."""
    try:
        return machines.get(name)
    except RegistryError as exc:
        raise Http404(str(exc)) from exc


def model_label(machine: Any) -> str:
    """``app_label.model_name`` of the machine's model, or ``""`` for a machine without one."""
    model = getattr(machine, "model", None)
    return model._meta.label_lower if model is not None else ""


def state_counts(machine: Any) -> dict[str, Count]:
    """Objects per state of the machine's model, every state listed.

    Counted as a list's facet options are: one capped count per state, all in one query
    (:func:`patterns_admin.selectors.result_counts`), exact up to ``FACET_COUNT_LIMIT``
    objects, above it the planner's estimate on PostgreSQL (one ``EXPLAIN`` per such state)
    or a lower bound elsewhere. A ``GROUP BY`` over the whole table read a million orders on
    every load of the object list (250 ms).
    """
    model = getattr(machine, "model", None)
    if model is None:
        return {state: Count(0, exact=True) for state in machine.states}
    manager = model._default_manager
    states = list(machine.states)
    field_name = machine.state_field
    counted = result_counts(
        [manager.filter(**{field_name: state}) for state in states],
        limits=[selectors.FACET_COUNT_LIMIT] * len(states),  # read here: a test can lower it
    )
    return dict(zip(states, counted, strict=True))


def total_count(counts: Iterable[Count]) -> Count:
    """The sum of per-state counts: exact when each is, else an estimate (or lower bound)."""
    parts = list(counts)
    return Count(
        sum(c.value for c in parts),
        exact=all(c.exact for c in parts),
        lower_bound=any(c.lower_bound for c in parts),
    )


def object_path(machine: Any, pk: str) -> ObjectPath | None:
    """The object ``pk`` of the machine's model and its transitions, or None if not found."""
    from toolkit.models import StateTransitionAudit  # the toolkit app must be ready

    model = getattr(machine, "model", None)
    if model is None:
        return None
    try:
        obj = model._default_manager.filter(pk=pk).first()
    except (ValueError, TypeError):
        return None
    if obj is None:
        return None
    rows = (
        StateTransitionAudit.objects.filter(
            model=model._meta.label_lower, object_id=str(obj.pk), machine=machine.name
        )
        .order_by("created_at", "id")
        .values_list("transition", "from_state", "to_state")
    )
    return ObjectPath(
        obj=obj,
        current=str(getattr(obj, machine.state_field)),
        steps=[(t, f, s) for t, f, s in rows],
    )


def state_rows(machine: Any, counts: dict[str, Count]) -> list[dict[str, Any]]:
    """The per-state counts as template rows: the state, its count, the panel's list of the
    objects in it and the transitions that leave it (for the bulk preview), when the machine
    drives a model."""
    from django.urls import reverse

    model = getattr(machine, "model", None)
    list_url = preview_url = ""
    if model is not None:
        args = [model._meta.app_label, model._meta.model_name]
        list_url = reverse("patterns_admin:object-list", args=args)
        preview_url = reverse("patterns_admin:bulk-transition-preview", args=args)
    return [
        {
            "state": state,
            "n": n,
            "url": f"{list_url}?{urlencode({'state': state})}" if list_url else "",
            "preview_url": preview_url,
            "transitions": [t for t in machine.transitions if state in t.sources],
        }
        for state, n in counts.items()
    ]
