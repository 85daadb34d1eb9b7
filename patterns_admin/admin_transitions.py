"""Transition buttons in the Django admin: on the change page and as bulk actions.

.. code-block:: python

    from django.contrib import admin
    from patterns_admin.admin_transitions import TransitionAdminMixin

    @admin.register(Order)
    class OrderAdmin(TransitionAdminMixin, admin.ModelAdmin):
        list_display = ["id", "customer", "status"]

The change page shows the same fragment as the panel's object-transitions page (current
state, allowed and blocked transitions with the guard's explanation, history), posting to the
panel's trigger view. The changelist gets one action per transition, which reports for every
selected object what happened. Both need ``patterns_admin.trigger_transition`` on top of each
transition's own permission, and both go through
:func:`patterns_admin.transitions.trigger_transition` (audited, action-logged).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from patterns_admin.permissions import TRIGGER_TRANSITION
from patterns_admin.transitions import MachineObject, trigger_transition
from toolkit.registry import machine_for_model

BulkAction = Callable[["admin.ModelAdmin[Any]", HttpRequest, "QuerySet[Any]"], None]


class TransitionAdminMixin:
    """Add the state machine's transitions to a ``ModelAdmin`` of a model that has one."""

    change_form_template = "patterns_admin/transitions/admin_change_form.html"
    model: type[Model]

    def get_transition_machine(self) -> Any:
        """The state machine whose transitions are offered (default: the model's)."""
        return machine_for_model(self.model)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The admin change page with the transitions fragment under the form."""
        from patterns_admin.views.transitions import transitions_context

        context = dict(extra_context or {})
        machine = self.get_transition_machine()
        obj = self.get_object(request, unquote(object_id)) if machine is not None else None  # type: ignore[attr-defined]
        if obj is not None:
            target = MachineObject(model=self.model, machine=machine, obj=obj)
            panel_context = transitions_context(request, target)  # type: ignore[arg-type]
            panel_context["next"] = request.get_full_path()
            context["transitions_panel"] = render_to_string(
                "patterns_admin/transitions/panel.html", panel_context, request=request
            )
        return super().change_view(request, object_id, form_url, context)  # type: ignore[misc, no-any-return]

    def get_actions(self, request: HttpRequest) -> dict[str, tuple[Any, str, str]]:
        """The model admin's actions plus one "trigger <transition>" per transition."""
        actions: dict[str, tuple[Any, str, str]] = super().get_actions(request)  # type: ignore[misc]
        machine = self.get_transition_machine()
        if machine is None or not request.user.has_perm(TRIGGER_TRANSITION):
            return actions
        for transition in machine.transitions:
            name = f"trigger_{transition.name}"
            description = f"Trigger “{transition.label}” on the selected %(verbose_name_plural)s"
            actions[name] = (self._bulk_action(transition.name), name, description)
        return actions

    def _bulk_action(self, transition: str) -> BulkAction:
        def action(
            modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
        ) -> None:
            if not request.user.has_perm(TRIGGER_TRANSITION):
                raise PermissionDenied
            machine = self.get_transition_machine()
            done = 0
            for obj in queryset.order_by("pk"):
                outcome = trigger_transition(
                    MachineObject(model=self.model, machine=machine, obj=obj),
                    transition,
                    user=request.user,
                )
                if outcome.ok:
                    done += 1
                    messages.success(request, f"{obj}: {outcome.message}")
                else:
                    messages.error(request, f"{obj}: not done: {outcome.message}")
            total = len(queryset)
            # Green only when every object moved: "0 of 6 done" is an error, a part a warning.
            level = (
                messages.SUCCESS if done == total else messages.WARNING if done else messages.ERROR
            )
            messages.add_message(request, level, f"{transition}: {done} of {total} done.")

        action.__name__ = f"trigger_{transition}"
        return action
