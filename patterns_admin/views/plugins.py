"""Plugins: name, version, status (with the error of a failed one), and the enable toggle."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from patterns_admin.audit import record_action, record_failure
from patterns_admin.http import (
    HtmxHttpRequest,
    bad_request,
    confirmation_page,
    nul_errors,
    wants_fragment,
)
from patterns_admin.permissions import has_panel_permission, permission_required_403
from toolkit.conf import toolkit_settings

logger = logging.getLogger("patterns_admin.plugins")

#: The values ``?action=`` may take in a toggle POST.
TOGGLE_ACTIONS = ("disable", "enable")


def plugin_registry() -> Any:
    """The process's plugin registry (``toolkit.patterns.plugin.get_plugin_registry()``)."""
    from toolkit.patterns.plugin import get_plugin_registry

    return get_plugin_registry()


def _plugins() -> tuple[list[Any], str]:
    """The plugins sorted by name, and the error that kept the registry from loading."""
    try:
        metas = plugin_registry().list_plugins()
    except Exception as exc:  # a broken plugin setup must not take the page down
        logger.exception("Could not load the plugin registry")
        return [], f"{type(exc).__name__}: {exc}"
    return sorted(metas, key=lambda meta: meta.name), ""


def _render_list(
    request: HtmxHttpRequest, *, status: int = 200, plugins: list[Any] | None = None
) -> HttpResponse:
    """The page (or ``#results``), with ``plugins`` when the caller has just listed them."""
    template_name = "patterns_admin/plugins/list.html"
    if wants_fragment(request):
        template_name += "#results"
    registry_error = ""
    if plugins is None:
        plugins, registry_error = _plugins()
    context = {
        "title": "Plugins",
        "plugins": plugins,
        "registry_error": registry_error,
        "plugin_group": toolkit_settings.patterns["plugin_group"],
        "may_toggle": has_panel_permission(request, "toggle_plugin"),
    }
    return render(request, template_name, context, status=status)


@require_GET
@staff_member_required
@vary_on_headers("HX-Request")
def plugin_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every plugin the registry loaded, with its status and, for failed ones, the error."""
    return _render_list(request)


@require_POST
@staff_member_required
@vary_on_headers("HX-Request")
@permission_required_403("toggle_plugin")
def plugin_toggle(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """Enable or disable the plugin ``name`` (``action`` = ``enable`` / ``disable``).

    Persists the choice (``PluginState``), calls the plugin's ``activate()`` /
    ``deactivate()`` through the registry, and records the action with the user.
    """

    from toolkit.core.exceptions import PatternError, PluginNotFound

    action = request.POST.get("action", "")
    errors = nul_errors(name=name)
    if errors:  # no plugin has such a name, and the action log could not store it
        return bad_request(request, errors)
    if action not in TOGGLE_ACTIONS:
        choices = ", ".join(repr(a) for a in TOGGLE_ACTIONS)
        messages.error(
            request, f"Unknown action {action!r} for plugin {name!r}; choices: {choices}."
        )
        return _finish(request, status=400)
    verb = "Enable" if action == "enable" else "Disable"
    ask = confirmation_page(
        request,
        question=f"{verb} the plugin {name}?",
        button=f"Yes, {action} {name}",
        cancel_url=reverse("patterns_admin:plugin-list"),
    )
    if ask is not None:
        return ask
    try:
        registry = plugin_registry()
        if action == "enable":
            registry.enable(name, user=request.user)
        else:
            registry.disable(name, user=request.user)
    except PatternError as exc:
        messages.error(request, f"Could not {action} {name!r}: {exc}")
        record_failure(
            user=request.user,
            action="toggle_plugin",
            target=f"plugin:{name}",
            exc=exc,
            detail={"action": action},
        )
        return _finish(request, status=404 if isinstance(exc, PluginNotFound) else 200)
    except Exception as exc:
        logger.exception("Could not %s plugin %r", action, name)
        messages.error(request, f"Could not {action} {name!r}: {type(exc).__name__}: {exc}")
        record_failure(
            user=request.user,
            action="toggle_plugin",
            target=f"plugin:{name}",
            exc=exc,
            detail={"action": action},
        )
        return _finish(request)
    plugins = sorted(registry.list_plugins(), key=lambda meta: meta.name)
    status = next((p.status for p in plugins if p.name == name), "unknown")
    failed = status == "failed"
    if failed:
        messages.error(request, f"Plugin {name!r} failed to {action}; see its error below.")
    else:
        messages.success(request, f"Plugin {name!r} is now {status}.")
    record_action(
        user=request.user,
        action="toggle_plugin",
        target=f"plugin:{name}",
        detail={"action": action, "status": status},
        success=not failed,
    )
    return _finish(request, plugins=plugins)


def _finish(
    request: HtmxHttpRequest, *, status: int = 200, plugins: list[Any] | None = None
) -> HttpResponse:
    """The list fragment for htmx (with ``auditChanged``), else a redirect to the list."""
    if not wants_fragment(request):
        return redirect(reverse("patterns_admin:plugin-list"))
    response = _render_list(request, status=status, plugins=plugins)
    return trigger_client_event(response, "auditChanged")
