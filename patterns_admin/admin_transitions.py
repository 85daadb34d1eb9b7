"""Transition buttons in the Django admin: on the change page and as bulk actions.

.. code-block:: python

    from django.contrib import admin
    from patterns_admin.admin_transitions import TransitionAdminMixin

    @admin.register(Order)
    class OrderAdmin(TransitionAdminMixin, admin.ModelAdmin):
        list_display = ["id", "customer", "status"]

The change page shows the same fragment as the panel's object-transitions page (current
state, allowed and blocked transitions with the guard's explanation, history), posting to the
panel's trigger view. The changelist gets one action per transition which, like
``delete_selected``, first shows a confirmation page: the panel's bulk preview (how many will
move, which are blocked and why) and a required reason; confirmed, it runs the preview and
reports for every selected object what happened, with a link to the panel's per-object
report. Both need ``patterns_admin.trigger_transition`` on top of each transition's own
permission, and both go through :func:`patterns_admin.transitions.trigger_transition`
(audited, action-logged).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from patterns_admin.permissions import TRIGGER_TRANSITION
from patterns_admin.transitions import (
    BULK_LIMIT,
    BULK_MESSAGE_LEVELS,
    BulkInputError,
    MachineObject,
    bulk_outcome,
    bulk_preview,
    bulk_selection,
    bulk_trigger,
)
from toolkit.contrib.admin import SafeChangeListMixin
from toolkit.registry import machine_for_model

BulkAction = Callable[
    ["admin.ModelAdmin[Any]", HttpRequest, "QuerySet[Any]"], "HttpResponse | None"
]
#: Per-object messages after a bulk action; the rest are in the panel's report.
ADMIN_MESSAGES = 20


class TransitionAdminMixin(SafeChangeListMixin):
    """Add the state machine's transitions to a ``ModelAdmin`` of a model that has one (its
    change list refuses bad query strings: :class:`~toolkit.contrib.admin.SafeChangeListMixin`)."""

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
        obj = self.get_object(request, unquote(object_id)) if machine is not None else None
        if obj is not None:
            target = MachineObject(model=self.model, machine=machine, obj=obj)
            panel_context = transitions_context(request, target)  # type: ignore[arg-type]
            panel_context["next"] = request.get_full_path()
            context["transitions_panel"] = render_to_string(
                "patterns_admin/transitions/panel.html", panel_context, request=request
            )
        return super().change_view(request, object_id, form_url, context)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """The model admin's actions plus one "trigger <transition>" per transition."""
        actions: dict[str, Any] = super().get_actions(request)
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
        ) -> HttpResponse | None:
            if not request.user.has_perm(TRIGGER_TRANSITION):
                raise PermissionDenied
            return self._bulk_transition(request, queryset, transition)

        action.__name__ = f"trigger_{transition}"
        return action

    def _bulk_transition(
        self, request: HttpRequest, queryset: QuerySet[Any], transition: str
    ) -> HttpResponse | None:
        """First the confirmation page (preview and reason, like ``delete_selected``'s); then,
        posted back with ``post=yes``, the run, reported in messages and in the panel."""
        from patterns_admin.views.transitions import bulk_preview_context, posted_plan

        meta = self.model._meta
        label, name = meta.app_label, str(meta.model_name)
        ids = [
            str(pk) for pk in queryset.order_by("pk").values_list("pk", flat=True)[: BULK_LIMIT + 1]
        ]
        errors: list[str] = []
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("post") == "yes":
            plan, reason, errors = posted_plan(request.POST, label, name)
            if plan is not None:
                self._report(request, bulk_trigger(plan, user=request.user, reason=reason))
                return None  # back to the changelist, with the messages
        try:
            selection = bulk_selection(label, name, transition=transition, ids=ids, state="")
        except BulkInputError as exc:
            for error in exc.errors:
                messages.error(request, error)
            return None
        context = {
            **self.admin_site.each_context(request),
            **bulk_preview_context(request, bulk_preview(selection, request.user)),
            "opts": meta,
            "action": request.POST.get("action", f"trigger_{transition}"),
            "selected": ids,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "errors": errors,
            "reason_value": reason,
        }
        return TemplateResponse(
            request,
            "patterns_admin/transitions/admin_bulk_confirm.html",
            context,
            status=400 if errors else 200,
        )

    def _report(self, request: HttpRequest, report: Any) -> None:
        detail = report.detail
        results = detail["results"]
        for row in results[:ADMIN_MESSAGES]:
            if row["status"] == "ok":
                messages.success(request, f"{row['label']}: {row['message']}")
            else:
                messages.error(request, f"{row['label']}: not done: {row['message']}")
        if len(results) > ADMIN_MESSAGES:
            messages.info(request, f"… and {len(results) - ADMIN_MESSAGES} more in the report.")
        done, total = detail["done"], len(results)
        # Green only when every object moved: "0 of 6 done" is an error, a part a warning.
        level = BULK_MESSAGE_LEVELS[bulk_outcome(detail)]
        messages.add_message(request, level, f"{detail['transition']}: {done} of {total} done.")
        url = reverse("patterns_admin:bulk-transition-report", args=[report.pk])
        messages.info(
            request,
            format_html('<a href="{}">Per-object report</a> of this run, with its reason.', url),
        )
