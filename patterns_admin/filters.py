"""django-filter FilterSets of the audit log, one per tab.

Each filter maps onto an index of ``toolkit/models/audit.py`` (``(model, object_id,
-created_at)``, ``(transition, -created_at)``, ``(from_state, …)``, ``(to_state, …)``,
``(user, …)``, ``(command, …)``, ``(success, …)``) so a filtered page seeks instead of scanning.
Bad values make the form invalid; the view then shows an empty table with the form's errors.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from patterns_admin.listing import ListFilterSet, form_errors
from toolkit.core.validation import MAX_INT
from toolkit.models import CommandAuditLog, StateTransitionAudit

_SUCCESS_CHOICES = [("true", "succeeded"), ("false", "failed")]
_KIND_CHOICES = [("execute", "execute"), ("undo", "undo")]


class _AuditFilter(ListFilterSet):
    """Filters both tabs share: who and when, a search box and the date hierarchy."""

    date_hierarchy = "created_at"

    user = django_filters.CharFilter(label="User", method="filter_user", max_length=150)
    created_after = django_filters.IsoDateTimeFilter(
        label="From", field_name="created_at", lookup_expr="gte"
    )
    created_before = django_filters.IsoDateTimeFilter(
        label="Before", field_name="created_at", lookup_expr="lt"
    )

    #: The fields whose input offers the ``<datalist id="suggest-<name>">`` of :meth:`suggestions`.
    suggested_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("created_after", "created_before"):
            widget = self.form.fields[name].widget
            widget.attrs.update({"placeholder": "YYYY-MM-DD[THH:MM]"})
            widget.input_type = "text"
        for name in self.suggested_fields:
            self.form.fields[name].widget.attrs["list"] = f"suggest-{name}"

    def filter_user(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """The rows of the user named ``value``: the user's key read first (one query, shared
        with the facets' counts), then ``user_id = …`` on the ``(user, -created_at)`` index;
        a join on the user's name kept PostgreSQL from that index (half a second at 1M)."""
        key = ("user", value)
        if key not in self._related_keys:
            from django.contrib.auth import get_user_model

            users = get_user_model()._default_manager.filter(username=value)
            self._related_keys[key] = list(users.values_list("pk", flat=True)[:1])
        return queryset.filter(user__in=self._related_keys[key])

    def error_messages(self) -> list[str]:
        """The form's errors as ``"<label>: <message>"`` lines, in field order."""
        return form_errors(self.form)


class TransitionAuditFilter(_AuditFilter):
    """Filter state transitions by entity, transition, states, user and date range."""

    model = django_filters.CharFilter(label="Model", lookup_expr="exact", max_length=200)
    object_id = django_filters.CharFilter(label="Object id", lookup_expr="exact", max_length=255)
    transition = django_filters.CharFilter(label="Transition", lookup_expr="exact", max_length=100)
    from_state = django_filters.CharFilter(label="From state", lookup_expr="exact", max_length=100)
    to_state = django_filters.CharFilter(label="To state", lookup_expr="exact", max_length=100)
    suggested_fields = ("model", "transition", "from_state", "to_state")
    faceted_fields = ("model", "transition")
    search_fields = ("object_id", "reason__icontains", "user__username")

    class Meta:
        model = StateTransitionAudit
        fields = [
            "model",
            "object_id",
            "transition",
            "from_state",
            "to_state",
            "user",
            "created_after",
            "created_before",
        ]

    def suggestions(self) -> dict[str, list[str]]:
        """Models, transitions and states of the registered state machines."""
        from toolkit.registry import machines

        models: set[str] = set()
        transitions: set[str] = set()
        states: set[str] = set()
        for machine in machines.values():
            model = getattr(machine, "model", None)
            if model is not None:
                models.add(model._meta.label_lower)
            transitions.update(t.name for t in machine.transitions)
            states.update(str(state) for state in machine.states)
        return {
            "model": sorted(models),
            "transition": sorted(transitions),
            "from_state": sorted(states),
            "to_state": sorted(states),
        }


class CommandAuditFilter(_AuditFilter):
    """Filter commands by class, outcome, kind, user, date range, or one entry and its undos."""

    command = django_filters.CharFilter(label="Command", lookup_expr="exact", max_length=255)
    success = django_filters.ChoiceFilter(
        label="Outcome", choices=_SUCCESS_CHOICES, empty_label="any", method="filter_success"
    )
    # Not "kind": the audit log's ?kind= picks the tab.
    action = django_filters.ChoiceFilter(
        label="Execute / undo", field_name="kind", choices=_KIND_CHOICES, empty_label="any"
    )
    entry = django_filters.NumberFilter(
        label="Entry #",
        method="filter_entry",
        min_value=1,
        max_value=MAX_INT,  # a row id: larger numbers fit no column (a form error, not a 500)
        decimal_places=0,
    )
    suggested_fields = ("command",)
    faceted_fields = ("success", "action")
    search_fields = ("command__icontains", "error__icontains", "user__username")

    class Meta:
        model = CommandAuditLog
        fields = [
            "command",
            "success",
            "action",
            "user",
            "entry",
            "created_after",
            "created_before",
        ]

    def suggestions(self) -> dict[str, list[str]]:
        """The registered command classes, by dotted path."""
        from toolkit.registry import commands

        return {"command": list(commands)}

    def filter_success(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """``"true"`` / ``"false"`` → the rows that succeeded / failed."""
        return queryset.filter(success=value == "true")

    def filter_entry(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        """The row ``#value`` and the undo attempts that point at it."""
        return queryset.filter(Q(pk=int(value)) | Q(undo_of_id=int(value)))
