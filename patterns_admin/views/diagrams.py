"""Diagrams of the registered state machines, drawn by graphviz as inline SVG.

``diagram_list`` shows every machine with its objects per state; ``diagram_detail`` one
machine, optionally for one object (``?object=<pk>``: its state filled, the path it took in
bold), with the Mermaid and DOT text to copy, or to download with ``?download=dot|mermaid``.
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from patterns_admin.diagram_data import (
    ObjectPath,
    get_machine,
    model_label,
    object_path,
    state_counts,
    state_rows,
    transition_rows,
)
from patterns_admin.diagrams import DiagramRenderError, render_svg
from patterns_admin.http import HtmxHttpRequest, render_page, wants_fragment
from patterns_admin.permissions import has_panel_permission
from toolkit.registry import machines

#: ``?download=`` values: file extension and content type.
DOWNLOADS = {
    "dot": ("gv", "text/vnd.graphviz; charset=utf-8"),
    "mermaid": ("mmd", "text/plain; charset=utf-8"),
}


def _svg(dot: str) -> tuple[str, str | None]:
    try:
        return render_svg(dot), None
    except DiagramRenderError as exc:
        return "", str(exc)


def _transitions_url(machine: object, path: ObjectPath | None) -> str:
    model = getattr(machine, "model", None)
    if path is None or model is None:
        return ""
    meta = model._meta
    return reverse(
        "patterns_admin:object-transitions", args=[meta.app_label, meta.model_name, path.obj.pk]
    )


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
def diagram_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every registered machine: its graph, model, and how many objects sit in each state."""
    cards = []
    for name, machine in machines.items():
        svg, error = _svg(machine.to_dot())
        counts = state_counts(machine)
        cards.append(
            {
                "name": name,
                "machine": machine,
                "model": model_label(machine),
                "counts": counts,
                "count_rows": state_rows(machine, counts),
                "svg": svg,
                "error": error,
            }
        )
    template_name = "patterns_admin/diagrams/list.html"
    if wants_fragment(request):
        template_name += "#results"
    context = {
        "cards": cards,
        "title": "State machine diagrams",
        # The counts link to the objects and offer the bulk preview to readers of the audit log.
        "can_bulk": has_panel_permission(request, "view_audit"),
    }
    return render(request, template_name, context)


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
def diagram_detail(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """One machine; for ``?object=<pk>`` its current state and path are highlighted."""
    machine = get_machine(name)
    pk = request.GET.get("object", "").strip()
    path: ObjectPath | None = None
    object_error = None
    if pk:
        path = object_path(machine, pk)
        if path is None:
            label = model_label(machine) or "object (this machine drives no model)"
            object_error = f"object: no {label} with pk {pk!r}; showing the machine alone."
    dot = machine.to_dot(current=path.current if path else None, path=path.pairs if path else ())
    mermaid = machine.diagram()
    download = request.GET.get("download", "")
    if download in DOWNLOADS and object_error is None:
        extension, content_type = DOWNLOADS[download]
        body = dot if download == "dot" else mermaid
        response = HttpResponse(body, content_type=content_type)
        suffix = f"-{pk}" if path else ""
        response["Content-Disposition"] = f'attachment; filename="{name}{suffix}.{extension}"'
        return response
    download_error = None
    if download and download not in DOWNLOADS:
        choices = ", ".join(repr(c) for c in sorted(DOWNLOADS))
        download_error = f"download: {download!r} is not a format; choices are: {choices}."
    svg, render_error = _svg(dot)
    counts = state_counts(machine)
    context = {
        "name": name,
        "title": f"Diagram of {name}",
        "machine": machine,
        "model": model_label(machine),
        "counts": counts,
        "count_rows": state_rows(machine, counts),
        "can_bulk": has_panel_permission(request, "view_audit"),
        "transitions": transition_rows(machine),
        "path": path,
        "object_pk": pk if path else "",
        "errors": [e for e in (object_error, download_error) if e],
        "svg": svg,
        "render_error": render_error,
        "dot": dot,
        "diagram_url": reverse("patterns_admin:diagram-detail", args=[name]),
        "transitions_url": _transitions_url(machine, path),
        "mermaid": mermaid,
    }
    return render_page(
        request,
        "patterns_admin/diagrams/detail.html",
        context,
        failed=bool(context["errors"]),
        fragment="diagram",
    )
