"""CQRS: master and replica models, their last revision, pending and dead-letter counts.

Actions (POST, permission ``patterns_admin.manage_cqrs``, audited): resync a master model
(every instance, or only the messages pending in the outbox) and replay dead letters.
They call the same toolkit services as ``cqrs_sync`` and ``cqrs_dead_letters``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from patterns_admin.audit import record_action
from patterns_admin.http import HtmxHttpRequest, confirmation_page, wants_fragment
from patterns_admin.permissions import has_panel_permission, permission_required_403

logger = logging.getLogger("patterns_admin.cqrs")

#: The values ``scope`` may take in a resync POST.
RESYNC_SCOPES = ("all", "pending")
#: How many dead letters the page lists.
DEAD_LETTER_LIMIT = 50

_View = Callable[..., HttpResponse]


def _context(request: HtmxHttpRequest) -> dict[str, Any]:
    from toolkit.cqrs.dead_letters import dead_letter_list
    from toolkit.cqrs.status import cqrs_model_statuses, unrouted_dead_letters

    statuses = cqrs_model_statuses()
    return {
        "title": "CQRS replication",
        "masters": [s for s in statuses if s.role == "master"],
        "replicas": [s for s in statuses if s.role == "replica"],
        "dead_letters": list(dead_letter_list()[:DEAD_LETTER_LIMIT]),
        "unrouted": unrouted_dead_letters(),
        "may_manage": has_panel_permission(request, "manage_cqrs"),
    }


def _render_list(request: HtmxHttpRequest, *, status: int = 200) -> HttpResponse:
    template_name = "patterns_admin/cqrs/list.html"
    if wants_fragment(request):
        template_name += "#results"
    return render(request, template_name, _context(request), status=status)


def _finish(request: HtmxHttpRequest, *, status: int = 200) -> HttpResponse:
    """The fragment for htmx (with ``auditChanged``), else a redirect to the page.

    Refused input (``status`` >= 400) renders the page with its message and status instead of
    redirecting, so a client sees the error code.
    """
    if not wants_fragment(request):
        if status >= 400:
            return _render_list(request, status=status)
        return redirect(reverse("patterns_admin:cqrs-list"))
    return trigger_client_event(_render_list(request, status=status), "auditChanged")


def _manage_action(view: _View) -> _View:
    """A CQRS action: POST only, staff only, ``manage_cqrs`` (403 otherwise), varies on htmx."""
    decorated = vary_on_headers("HX-Request")(view)
    decorated = permission_required_403("manage_cqrs")(decorated)
    # The action answers with the CQRS page, so it needs that page's read permission too.
    decorated = permission_required_403("view_cqrs")(decorated)
    return require_POST(staff_member_required(decorated))


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("view_cqrs")
def cqrs_list(request: HtmxHttpRequest) -> HttpResponse:
    """Master and replica models with their counts, and the dead letters not replayed."""
    return _render_list(request)


@_manage_action
def cqrs_resync(request: HtmxHttpRequest) -> HttpResponse:
    """Resend a master model: ``scope=all`` syncs every instance, ``pending`` the outbox."""
    from toolkit.cqrs.producer import publish_pending
    from toolkit.cqrs.registries import MasterRegistry
    from toolkit.cqrs.sync import master_queryset, sync_queryset

    cqrs_id = request.POST.get("cqrs_id", "")
    scope = request.POST.get("scope", "")
    target = f"cqrs:{cqrs_id}"
    if scope not in RESYNC_SCOPES:
        choices = ", ".join(repr(s) for s in RESYNC_SCOPES)
        messages.error(request, f"Unknown resync scope {scope!r}; choices: {choices}.")
        return _finish(request, status=400)
    if MasterRegistry.get_model_by_cqrs_id(cqrs_id) is None:
        known = ", ".join(repr(i) for i in MasterRegistry.cqrs_ids()) or "none"
        messages.error(request, f"{cqrs_id!r} is not a master CQRS_ID; available: {known}.")
        return _finish(request, status=400)
    if scope == "all":
        ask = confirmation_page(
            request,
            question=f"Resend every {cqrs_id} instance to the replicas?",
            button=f"Yes, resync every {cqrs_id}",
            cancel_url=reverse("patterns_admin:cqrs-list"),
        )
        if ask is not None:
            return ask
    try:
        if scope == "pending":
            count = publish_pending(cqrs_id=cqrs_id)
            detail: dict[str, Any] = {"scope": scope, "published": count}
            messages.success(request, f"Published {count} pending {cqrs_id!r} message(s).")
        else:
            result = sync_queryset(master_queryset(cqrs_id))
            detail = {"scope": scope, "synced": result.synced, "total": result.total}
            messages.success(
                request, f"Queued {result.synced} of {result.total} {cqrs_id!r} instance(s)."
            )
    except Exception as exc:  # CqrsError, a transport or database error: report, audit
        logger.exception("CQRS resync of %r failed", cqrs_id)
        messages.error(request, f"Resync of {cqrs_id!r} failed: {type(exc).__name__}: {exc}")
        record_action(
            user=request.user,
            action="cqrs_resync",
            target=target,
            detail={"scope": scope, "error": f"{type(exc).__name__}: {exc}"},
            success=False,
        )
        return _finish(request)
    record_action(user=request.user, action="cqrs_resync", target=target, detail=detail)
    return _finish(request)


#: Digits in the largest id a dead letter can have (a 64-bit integer column).
MAX_ID_DIGITS = 18


@_manage_action
def cqrs_replay(request: HtmxHttpRequest) -> HttpResponse:
    """Replay one dead letter (``dead_letter`` = its id) or all of them (``dead_letter=all``)."""
    from toolkit.cqrs.constants import Outcome
    from toolkit.cqrs.dead_letters import dead_letter_list, replay_dead_letters

    raw = request.POST.get("dead_letter", "")
    letters = dead_letter_list()
    if raw != "all":
        # ASCII digits only and within a bigint: str.isdigit() accepts "²" (int() does not)
        # and a 5000-digit id overflows the database column; both are a 400, never a 500.
        if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= MAX_ID_DIGITS):
            shown = raw if len(raw) <= 40 else f"{raw[:40]}…"
            messages.error(
                request,
                f"Invalid dead letter {shown!r}: give its id (1 to {MAX_ID_DIGITS} digits "
                "0-9) or 'all'.",
            )
            return _finish(request, status=400)
        letters = letters.filter(pk=int(raw))
        if not letters.exists():
            messages.error(request, f"No dead letter to replay with id {raw!r}.")
            return _finish(request, status=404)
    counts = replay_dead_letters(letters)
    failed = counts.get(Outcome.DEAD_LETTER, 0)
    summary = ", ".join(f"{o.value}={n}" for o, n in sorted(counts.items())) or "nothing"
    if failed:
        messages.error(request, f"Replayed dead letters: {summary}.")
    else:
        messages.success(request, f"Replayed dead letters: {summary}.")
    record_action(
        user=request.user,
        action="cqrs_replay",
        target=f"dead_letter:{raw}",
        detail={o.value: n for o, n in counts.items()},
        success=not failed,
    )
    return _finish(request)
