"""Transitions of one object: its state, what the user may do now, why the rest is blocked.

``object_transitions`` (GET) renders the page, or only ``#transitions`` for htmx;
``object_transition_trigger`` (POST) triggers one transition and answers with the same
fragment (htmx) or a redirect back (no JavaScript). The Django admin change page embeds the
same fragment through :class:`patterns_admin.admin_transitions.TransitionAdminMixin`.

Bulk: ``object_list`` lists a model's objects (``?state=``) with checkboxes;
``bulk_transition_preview`` (GET) dry-runs a transition on the selection or on every object
in a state; ``bulk_transition_run`` (POST, with a required reason) runs the preview;
``bulk_transition_report`` shows what happened to each object.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from patterns_admin.diagram_data import state_counts, total_count
from patterns_admin.http import HtmxHttpRequest, bad_request, nul_errors, wants_fragment
from patterns_admin.models import PanelActionLog
from patterns_admin.permissions import (
    TRIGGER_TRANSITION,
    has_panel_permission,
    permission_required_403,
)
from patterns_admin.transitions import (
    BULK_LIMIT,
    BULK_MESSAGE_LEVELS,
    PREVIEW_LISTED,
    BulkInputError,
    BulkPlan,
    BulkPreview,
    MachineObject,
    TriggerOutcome,
    bulk_outcome,
    bulk_plan,
    bulk_preview,
    bulk_selection,
    bulk_trigger,
    machine_object,
    model_with_machine,
    state_errors,
    transition_checks,
    transition_history,
    trigger_transition,
)

#: Longest reason accepted (the audit column is a TextField; this keeps the page readable).
MAX_REASON = 1000


def reason_errors(reason: str, *, required: bool) -> list[str]:
    """What is wrong with a posted (stripped) transition reason: missing when ``required``
    (bulk runs), or longer than :data:`MAX_REASON`. A long reason is refused, never cut."""
    if not reason:
        if not required:
            return []
        return [
            "reason: required; say why these objects are moved "
            "(it is stored in each transition's audit row)."
        ]
    if len(reason) > MAX_REASON:
        return [f"reason: at most {MAX_REASON} characters (got {len(reason)})."]
    return []


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
        "max_reason": MAX_REASON,
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
    """Trigger the POSTed ``transition`` with an optional ``reason`` (at most
    :data:`MAX_REASON` characters); report the outcome."""
    target = machine_object(app_label, model_name, pk)
    name = request.POST.get("transition", "").strip()
    reason = request.POST.get("reason", "").strip()
    errors = nul_errors(transition=name, reason=reason) or reason_errors(reason, required=False)
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


# -- objects of a model, and bulk transitions ----------------------------------------------

#: Objects per page of the object list.
OBJECTS_PER_PAGE = 50
#: Longest search accepted on the object list.
MAX_SEARCH = 200


def _admin_search(request: HttpRequest, model: type[Model]) -> tuple[ModelAdmin[Any] | None, str]:
    """The model's ``ModelAdmin`` on the admin site when it declares search fields (the
    object list searches as the admin's change list does), and those fields for the hint."""
    from django.contrib import admin
    from django.contrib.admin.exceptions import NotRegistered

    try:
        model_admin = admin.site.get_model_admin(model)
    except NotRegistered:
        return None, ""
    fields = [str(f).lstrip("^=@") for f in model_admin.get_search_fields(request)]
    return (model_admin, ", ".join(fields)) if fields else (None, "")


def _list_href(base: str, **params: object) -> str:
    """``base`` with the non-empty ``params`` as its query string."""
    query = urlencode({k: v for k, v in params.items() if v not in ("", None)})
    return f"{base}?{query}" if query else base


def _model_args(model: type[Model]) -> list[str]:
    return [model._meta.app_label, str(model._meta.model_name)]


def _object_url(model: type[Model], pk: object) -> str:
    return reverse("patterns_admin:object-transitions", args=[*_model_args(model), pk])


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_audit")
def object_list(request: HtmxHttpRequest, app_label: str, model_name: str) -> HttpResponse:
    """The objects of a model that has a machine, ``?state=`` filtered and ``?q=`` searched
    (with the model admin's ``search_fields``, as its change list), 50 per page by primary key
    (``?after=<pk>``), with a checkbox each to preview a transition on the selection, and the
    counts per state to preview it on every object in one state."""
    try:
        model, machine = model_with_machine(app_label, model_name)
    except Http404 as exc:
        return bad_request(request, [f"model: {exc}."])
    state = request.GET.get("state", "").strip()
    after = request.GET.get("after", "").strip()
    q = request.GET.get("q", "").strip()
    errors = nul_errors(state=state, after=after, q=q)
    if state and not errors:
        errors.extend(state_errors(machine, state))
    model_admin, search_fields = _admin_search(request, model)
    if q and not errors:
        if model_admin is None:
            errors.append(
                f"q: {model._meta.label} has no search_fields in its admin, so its objects "
                "cannot be searched here."
            )
        elif len(q) > MAX_SEARCH:
            errors.append(f"q: at most {MAX_SEARCH} characters (got {len(q)}).")
    rows = model._default_manager.order_by("pk")
    if after and not errors:
        try:
            rows = rows.filter(pk__gt=model._meta.pk.to_python(after))
        except DjangoValidationError:
            errors.append(f"after: {after[:50]!r} is not a primary key of {model._meta.label}.")
    if errors:
        return bad_request(request, errors)
    if state:
        rows = rows.filter(**{machine.state_field: state})
    if q and model_admin is not None:
        rows, may_have_duplicates = model_admin.get_search_results(request, rows, q)
        if may_have_duplicates:
            rows = rows.distinct()
    page = list(rows[: OBJECTS_PER_PAGE + 1])
    has_next = len(page) > OBJECTS_PER_PAGE
    page = page[:OBJECTS_PER_PAGE]
    counts = state_counts(machine)
    total = total_count(counts.values())
    base = reverse("patterns_admin:object-list", args=_model_args(model))
    title = str(model._meta.verbose_name_plural).capitalize()
    title += (f" in state {state}" if state else "") + (f" matching “{q}”" if q else "")
    context = {
        "title": title,
        "model": model,
        "label": model._meta.label_lower,
        "machine": machine,
        "state": state,
        "after": after,
        "q": q,
        "searchable": model_admin is not None,
        "search_fields": search_fields,
        "max_search": MAX_SEARCH,
        "counts": counts,
        "state_links": [(name, n, _list_href(base, state=name, q=q)) for name, n in counts.items()],
        "all_href": _list_href(base, q=q),
        "total": total,
        "count": counts[state] if state else total,
        "state_transitions": [t for t in machine.transitions if state in t.sources]
        if state
        else [],
        "rows": [
            {
                "obj": obj,
                "state": str(getattr(obj, machine.state_field)),
                "url": _object_url(model, obj.pk),
            }
            for obj in page
        ],
        "list_url": base,
        "first_href": _list_href(base, state=state, q=q),
        "clear_search_href": _list_href(base, state=state),
        "next_url": _list_href(base, state=state, q=q, after=page[-1].pk) if has_next else "",
        "preview_url": reverse("patterns_admin:bulk-transition-preview", args=_model_args(model)),
        "bulk_limit": BULK_LIMIT,
    }
    template_name = "patterns_admin/transitions/objects.html"
    if wants_fragment(request):
        template_name += "#objects"
    return render(request, template_name, context)


def bulk_preview_context(request: HttpRequest, preview: BulkPreview) -> dict[str, object]:
    selection = preview.selection
    model = selection.model
    args = _model_args(model)
    list_url = reverse("patterns_admin:object-list", args=args)
    if selection.state:
        list_url += "?" + urlencode({"state": selection.state})
        what = f"every {model._meta.verbose_name} in state {selection.state}"
    else:
        what = f"{preview.total} selected {model._meta.verbose_name_plural}"
    return {
        "title": f"Preview: {selection.transition.name} on {what}",
        "preview": preview,
        "selection": selection,
        "transition": selection.transition,
        "ready": preview.ready,
        "ready_listed": preview.ready[:PREVIEW_LISTED],
        "blocked_groups": [
            {
                "reason": group.reason,
                "count": group.count,
                "more": group.more,
                "items": [(item, _object_url(model, item.pk)) for item in group.items],
            }
            for group in preview.blocked_groups()
        ],
        "token": preview.token() if preview.ready else "",
        "can_trigger": has_panel_permission(request, "trigger_transition"),
        "run_url": reverse("patterns_admin:bulk-transition-run", args=args),
        "list_url": list_url,
        "max_reason": MAX_REASON,
        "bulk_limit": BULK_LIMIT,
        "reason_value": "",
    }


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_audit")
def bulk_transition_preview(
    request: HtmxHttpRequest, app_label: str, model_name: str
) -> HttpResponse:
    """Dry-run ``?transition=`` on ``?ids=`` (repeated) or on every object in ``?state=``:
    how many will succeed, which are blocked and why; then the form to run it with a reason.
    Nothing is changed, so it is a GET: any reader of the audit log may preview."""
    try:
        params = request.GET
    except TooManyFieldsSent:
        return bad_request(
            request,
            [
                f"Too many objects selected; at most {BULK_LIMIT} per run. Select fewer, or "
                "start from the state's count to handle every object in a state."
            ],
        )
    try:
        selection = bulk_selection(
            app_label,
            model_name,
            transition=params.get("transition", ""),
            ids=params.getlist("ids"),
            state=params.get("state", ""),
        )
    except BulkInputError as exc:
        return bad_request(request, exc.errors)
    preview = bulk_preview(selection, request.user)
    context = bulk_preview_context(request, preview)
    template_name = "patterns_admin/transitions/bulk_preview.html"
    if wants_fragment(request):
        template_name += "#bulk"
        context["in_fragment"] = True  # under the object list: it names what it previews
    return render(request, template_name, context)


def posted_plan(
    post: QueryDict, app_label: str, model_name: str
) -> tuple[BulkPlan | None, str, list[str]]:
    """The plan, stripped reason and errors of a posted bulk run (``preview`` token and
    ``reason``): no null characters, a reason given and at most :data:`MAX_REASON` long, a
    valid token for this model. Shared by the panel's run and the admin action's confirmation;
    the plan is None when there are errors."""
    token = post.get("preview", "")
    reason = post.get("reason", "").strip()
    errors = nul_errors(preview=token, reason=reason)
    if errors:
        return None, reason, errors
    errors = reason_errors(reason, required=True)
    try:
        plan = bulk_plan(token, app_label, model_name)
    except BulkInputError as exc:
        errors.extend(exc.errors)
    return (None if errors else plan), reason, errors


@require_POST
@staff_member_required
@permission_required_403("view_audit")
@permission_required_403("trigger_transition")
def bulk_transition_run(request: HtmxHttpRequest, app_label: str, model_name: str) -> HttpResponse:
    """Run a previewed bulk transition (the preview's signed ``preview`` token) with the
    required ``reason``; redirect to (or, for htmx, show) the per-object report."""
    plan, reason, errors = posted_plan(request.POST, app_label, model_name)
    if plan is None:
        return bad_request(request, errors)
    report = bulk_trigger(plan, user=request.user, reason=reason)
    report_url = reverse("patterns_admin:bulk-transition-report", args=[report.pk])
    if wants_fragment(request):
        response = render(
            request, "patterns_admin/transitions/bulk_report.html#report", _report_context(report)
        )
        response["HX-Push-Url"] = report_url
        return trigger_client_event(response, "auditChanged")
    detail = report.detail
    done, refused, skipped = detail["done"], detail["refused"], detail["skipped"]
    attempted = done + refused
    level = BULK_MESSAGE_LEVELS[bulk_outcome(detail)]
    messages.add_message(
        request,
        level,
        format_html(
            "{}: {} of {} done, {} refused, {} skipped (blocked at preview). "
            '<a href="{}">Per-object report</a>.',
            detail["transition"],
            done,
            attempted,
            refused,
            skipped,
            report_url,
        ),
    )
    return HttpResponseRedirect(report_url)


def _report_context(report: PanelActionLog) -> dict[str, object]:
    detail = report.detail
    model_args = detail["model"].split(".", 1)
    results = [
        {**row, "url": reverse("patterns_admin:object-transitions", args=[*model_args, row["pk"]])}
        for row in detail.get("results", [])
    ]
    return {
        "title": f"Bulk {detail['transition']} on {detail['model']}: report",
        "report": report,
        "detail": detail,
        "results": results,
        "attempted": detail["done"] + detail["refused"],
        "outcome": bulk_outcome(detail),
        "report_url": reverse("patterns_admin:bulk-transition-report", args=[report.pk]),
    }


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_audit")
def bulk_transition_report(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One bulk run: who, when, why, and for every object ok / refused / skipped and why."""
    report = get_object_or_404(PanelActionLog, pk=pk, action="bulk_transition")
    template_name = "patterns_admin/transitions/bulk_report.html"
    if wants_fragment(request):
        template_name += "#report"
    return render(request, template_name, _report_context(report))
