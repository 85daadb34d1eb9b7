"""The panel's permissions and the decorator that enforces them.

Reading each area and each kind of action has its own permission, granted like any other in
the admin (``Users`` → ``User permissions`` or a group):

==================================== ==============================================
permission                           allows
==================================== ==============================================
``patterns_admin.view_audit``          reading the audit log (transitions), object history
``patterns_admin.view_commands``       reading the command log and command details
``patterns_admin.view_streams``        reading event streams, the event feed, replays
``patterns_admin.view_projections``    reading projections and their health
``patterns_admin.view_cqrs``           reading replication status and dead letters
``patterns_admin.view_sensitive``      seeing the fields named in ``TOOLKIT["admin"]
                                       ["sensitive_fields"]`` unmasked
``patterns_admin.trigger_transition``  triggering state transitions
``patterns_admin.undo_command``        undoing commands
``patterns_admin.force_undo``          undoing a command whose objects changed since
``patterns_admin.toggle_plugin``       enabling / disabling plugins
``patterns_admin.replay_events``       replaying events, rebuilding projections
``patterns_admin.manage_cqrs``         resyncing replicas, replaying dead letters
==================================== ==============================================

Superusers have them all. Every panel view is for staff only on top of that. Pages,
fragments and CSV exports check the view permission of their area; an action checks its own
permission and the view permission of the page it sits on. Every refusal (403) is logged and
recorded as a failed :class:`~patterns_admin.models.PanelActionLog` row with the user, the
request and the missing permission.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, Final, Literal, ParamSpec, TypeVar, cast

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from patterns_admin.http import wants_fragment

logger = logging.getLogger("patterns_admin.permissions")

APP_LABEL: Final = "patterns_admin"

Codename = Literal[
    "view_audit",
    "view_commands",
    "view_streams",
    "view_projections",
    "view_cqrs",
    "view_sensitive",
    "trigger_transition",
    "undo_command",
    "force_undo",
    "toggle_plugin",
    "replay_events",
    "manage_cqrs",
]

#: Codename → what it allows (shown on the 403 page and in the docs).
PERMISSIONS: Final[dict[str, str]] = {
    "view_audit": "read the audit log",
    "view_commands": "read the command log",
    "view_streams": "read event streams",
    "view_projections": "read projections",
    "view_cqrs": "read replication status and dead letters",
    "view_sensitive": "see sensitive fields unmasked",
    "force_undo": "force an undo whose objects changed since the command ran",
    "trigger_transition": "trigger state transitions",
    "undo_command": "undo commands",
    "toggle_plugin": "enable and disable plugins",
    "replay_events": "replay events and rebuild projections",
    "manage_cqrs": "resync replicas and replay dead letters",
}

TRIGGER_TRANSITION: Final = f"{APP_LABEL}.trigger_transition"
UNDO_COMMAND: Final = f"{APP_LABEL}.undo_command"
TOGGLE_PLUGIN: Final = f"{APP_LABEL}.toggle_plugin"
REPLAY_EVENTS: Final = f"{APP_LABEL}.replay_events"
MANAGE_CQRS: Final = f"{APP_LABEL}.manage_cqrs"
VIEW_SENSITIVE: Final = f"{APP_LABEL}.view_sensitive"

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponse)


def full_permission_name(codename: str) -> str:
    """``"undo_command"`` or ``"patterns_admin.undo_command"`` → ``"patterns_admin.undo_command"``.

    Raises ``ValueError`` naming the valid codenames for anything else.
    """
    bare = codename.removeprefix(f"{APP_LABEL}.")
    if bare not in PERMISSIONS:
        valid = ", ".join(repr(c) for c in sorted(PERMISSIONS))
        raise ValueError(f"Unknown panel permission {codename!r}; valid codenames: {valid}")
    return f"{APP_LABEL}.{bare}"


def has_panel_permission(request: HttpRequest, codename: str) -> bool:
    """Whether the request's user is active staff and holds the panel permission ``codename``."""
    user = request.user
    return bool(user.is_active and user.is_staff and user.has_perm(full_permission_name(codename)))


def record_refusal(request: HttpRequest, reason: str, **detail: Any) -> None:
    """Log a refused read or action and record it as a failed ``PanelActionLog`` row.

    ``action`` is ``"refused"``, ``target`` the method and path, ``detail`` holds ``reason``
    (what was missing or wrong) and whatever else the caller passes.
    """
    from patterns_admin.audit import record_action

    username = getattr(request.user, "get_username", lambda: "anonymous")()
    logger.warning("Refused %s %s to %r: %s", request.method, request.path, username, reason)
    record_action(
        user=request.user,
        action="refused",
        target=f"{request.method} {request.get_full_path()}",
        detail={"reason": reason, **detail},
        success=False,
    )


def forbidden(request: HttpRequest, codename: str) -> TemplateResponse:
    """The rendered 403 page (or fragment, for htmx) that names the missing permission.

    The refusal is logged and recorded (:func:`record_refusal`).
    """
    permission = full_permission_name(codename)
    bare = permission.split(".", 1)[1]
    record_refusal(request, f"missing permission {permission!r}", permission=permission)
    template = "patterns_admin/403.html"
    if wants_fragment(request):
        template = "patterns_admin/partials/forbidden.html"
    response = TemplateResponse(
        request,
        template,
        {"permission": permission, "allows": PERMISSIONS[bare], "title": "Permission denied"},
        status=403,
    )
    response.render()
    return response


def permission_required_403(
    codename: str,
) -> Callable[[Callable[P, R]], Callable[P, R | TemplateResponse]]:
    """Refuse the view with a rendered 403, changing nothing, unless the user has ``codename``.

    Stack it under ``staff_member_required`` (anonymous users go to the login page first)::

        @require_POST
        @staff_member_required
        @permission_required_403("undo_command")
        def command_undo(request: HtmxHttpRequest, pk: int) -> HttpResponse: ...

    ``codename`` is checked when the decorator is applied, so a typo fails at import.
    """
    full_permission_name(codename)

    def decorator(view: Callable[P, R]) -> Callable[P, R | TemplateResponse]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | TemplateResponse:
            request = cast(HttpRequest, args[0])
            if not has_panel_permission(request, codename):
                return forbidden(request, codename)
            return view(*args, **kwargs)

        return wrapper

    return decorator
