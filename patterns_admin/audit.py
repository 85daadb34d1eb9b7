"""Record what staff do in the panel, with who did it."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from patterns_admin.models import PanelActionLog


def record_action(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
    success: bool = True,
) -> PanelActionLog:
    """Write one :class:`PanelActionLog` row and return it.

    Call it from every view that changes something, after the toolkit call, with the outcome::

        record_action(user=request.user, action="undo_command", target=f"command#{pk}",
                      detail={"undo_id": undo.pk}, success=True)

    An anonymous (or missing) user is stored as NULL.
    """
    # The user model is swappable; the FK accepts whichever model AUTH_USER_MODEL names.
    acting = cast(Any, user) if user is not None and user.is_authenticated else None
    return PanelActionLog.objects.create(
        user=acting,
        action=action,
        target=target[:255],
        detail=detail or {},
        success=success,
    )


def record_failure(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    action: str,
    target: str,
    exc: BaseException,
    detail: dict[str, Any] | None = None,
) -> PanelActionLog:
    """Record a failed action: ``detail`` plus the exception's ``error`` and ``error_type``.

    The shared ``except`` arm of the action views::

        except PatternError as exc:
            record_failure(user=request.user, action="undo_command", target=target, exc=exc,
                           detail={"command": entry.command})
    """
    return record_action(
        user=user,
        action=action,
        target=target,
        detail={**(detail or {}), "error": str(exc), "error_type": type(exc).__name__},
        success=False,
    )
