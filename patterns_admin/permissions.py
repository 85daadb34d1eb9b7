"""The panel's permissions and the decorator that enforces them.

Each kind of action has its own permission, granted like any other in the admin
(``Users`` → ``User permissions`` or a group):

================================== ============================================
permission                         allows
================================== ============================================
``patterns_admin.trigger_transition`` triggering state transitions
``patterns_admin.undo_command``       undoing commands
``patterns_admin.toggle_plugin``      enabling / disabling plugins
``patterns_admin.replay_events``      replaying events, rebuilding projections
``patterns_admin.manage_cqrs``        resyncing replicas, replaying dead letters
================================== ============================================

Superusers have them all. Every panel view is for staff only on top of that.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Final, Literal, ParamSpec, TypeVar, cast

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from patterns_admin.http import wants_fragment

logger = logging.getLogger("patterns_admin.permissions")

APP_LABEL: Final = "patterns_admin"

Codename = Literal[
    "trigger_transition", "undo_command", "toggle_plugin", "replay_events", "manage_cqrs"
]

#: Codename → what it allows (shown on the 403 page and in the docs).
PERMISSIONS: Final[dict[str, str]] = {
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


def forbidden(request: HttpRequest, codename: str) -> TemplateResponse:
    """The rendered 403 page (or fragment, for htmx) that names the missing permission."""
    permission = full_permission_name(codename)
    bare = permission.split(".", 1)[1]
    logger.warning(
        "Refused %s %s to %r: missing permission %r",
        request.method,
        request.path,
        getattr(request.user, "get_username", lambda: "anonymous")(),
        permission,
    )
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
