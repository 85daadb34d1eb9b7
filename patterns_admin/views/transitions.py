"""Transitions of one object: its state, what the user may do now, why the rest is blocked.

``object_transitions`` (GET) renders the page, or only ``#transitions`` for htmx;
``object_transition_trigger`` (POST) triggers one transition and answers with the same
fragment (htmx) or a redirect back (no JavaScript). The Django admin change page embeds the
same fragment through :class:`patterns_admin.admin_transitions.TransitionAdminMixin`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from patterns_admin.http import HtmxHttpRequest, bad_request, nul_errors, wants_fragment
from patterns_admin.permissions import TRIGGER_TRANSITION, permission_required_403
from patterns_admin.transitions import (
    MachineObject,
    TriggerOutcome,
    machine_object,
    transition_checks,
    transition_history,
    trigger_transition,
)

#: Longest reason accepted (the audit column is a TextField; this keeps the page readable).
MAX_REASON = 1000


def _admin_change_url(target: MachineObject) -> str:
    meta = target.model._meta
    try:
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[target.obj.pk])
    except NoReverseMatch:  # the model is not registered in the admin
        return ""


def transitions_context(
    request: HtmxHttpRequest, target: MachineObject, *, outcome: TriggerOutcome | None = None
) -> dict[str, object]:
    """Template context of ``patterns_admin/transitions/panel.html`` (page and admin)."""
    return {
        "target": target,
        "title": f"Transitions of {target.obj}",
        "object": target.obj,
        "machine": target.machine,
        "state": target.state,
        "checks": transition_checks(target, request.user),
        "history": transition_history(target),
        "can_trigger": request.user.has_perm(TRIGGER_TRANSITION),
        "trigger_url": reverse(
            "patterns_admin:object-transition-trigger",
            args=[target.model._meta.app_label, target.model._meta.model_name, target.obj.pk],
        ),
        "admin_url": _admin_change_url(target),
        "history_url": reverse(
            "patterns_admin:object-history",
            args=[target.model._meta.app_label, target.model._meta.model_name, target.obj.pk],
        ),
        "outcome": outcome,
        "next": request.get_full_path() if request.method == "GET" else "",
    }


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_audit")
def object_transitions(
    request: HtmxHttpRequest, app_label: str, model_name: str, pk: str
) -> HttpResponse:
    """The object's current state, allowed and blocked transitions, and its history."""
    target = machine_object(app_label, model_name, pk)
    template_name = "patterns_admin/transitions/object.html"
    if wants_fragment(request):
        template_name += "#transitions"
    return render(request, template_name, transitions_context(request, target))


@require_POST
@staff_member_required
@permission_required_403("trigger_transition")
def object_transition_trigger(
    request: HtmxHttpRequest, app_label: str, model_name: str, pk: str
) -> HttpResponse:
    """Trigger the POSTed ``transition`` with an optional ``reason``; report the outcome."""
    target = machine_object(app_label, model_name, pk)
    name = request.POST.get("transition", "").strip()
    reason = request.POST.get("reason", "")[:MAX_REASON]
    errors = nul_errors(transition=name, reason=reason)
    if errors:
        return bad_request(request, errors)
    outcome = trigger_transition(target, name, user=request.user, reason=reason)
    if wants_fragment(request):
        # Reload the object: a successful trigger changed its state field in place already,
        # a failed one left the row as it was.
        target = machine_object(app_label, model_name, pk)
        context = transitions_context(request, target, outcome=outcome)
        context["next"] = request.POST.get("next", "")  # the next trigger returns there too
        admin_url = str(context["admin_url"])
        if outcome.ok and admin_url and str(context["next"]).split("?")[0] == admin_url:
            # Posted from the admin change page: its read-only state field shows the old
            # state until reloaded, so the fragment updates it out of band.
            context["admin_state_field"] = target.machine.state_field
        response = render(request, "patterns_admin/transitions/object.html#transitions", context)
        # 200 for refusals too: the request was handled, and htmx swaps only 2xx answers.
        return trigger_client_event(response, "auditChanged")
    level = messages.SUCCESS if outcome.ok else messages.ERROR
    messages.add_message(request, level, outcome.message)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse(
            "patterns_admin:object-transitions",
            args=[target.model._meta.app_label, target.model._meta.model_name, target.obj.pk],
        )
    return HttpResponseRedirect(next_url)
