"""Selectors of the investigation pages: what touched one object, what one user did.

Everything is read from the audit the toolkit writes (transition rows, command rows, the
panel's action log), newest first, merged in time order, at most ``limit`` lines per source.
Which commands touched an object is read from what commands record about it: a result that
is the object (``{"__model__": "shop.order", "pk": "12"}``, how commands store a model they
return) or a parameter named ``<model>_id`` (``order_id=12``), the convention of the demo
and of most command classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.db import connections, router
from django.db.models import Q
from django.db.models.fields.json import KeyTransform
from django.urls import reverse

#: Lines read per source (transitions, commands, panel actions) on one page: rendering 600
#: lines took ~1 s on the shared machine (bench/panel.py), 150 keep the page light.
HISTORY_LIMIT = 50


@dataclass(frozen=True)
class HistoryLine:
    """One thing that happened, for the history and activity pages."""

    when: datetime
    kind: str  # "transition", "execute", "undo" or "panel"
    text: str
    user: str
    url: str
    success: bool = True


def _username(row: Any) -> str:
    return str(row.user.get_username()) if row.user_id else ""


def _command_lines(rows: Any) -> list[HistoryLine]:
    return [
        HistoryLine(
            when=row.created_at,
            kind=row.kind,
            text=f"{row.kind} {row.command.rsplit('.', 1)[-1]} #{row.pk}"
            + ("" if row.success else f": {row.error[:120]}"),
            user=_username(row),
            url=reverse("patterns_admin:command-detail", args=[row.pk]),
            success=row.success,
        )
        for row in rows
    ]


def _transition_lines(rows: Any, *, with_object: bool) -> list[HistoryLine]:
    audit = reverse("patterns_admin:audit-list")
    lines = []
    for row in rows:
        subject = f"{row.model} #{row.object_id}: " if with_object else ""
        lines.append(
            HistoryLine(
                when=row.created_at,
                kind="transition",
                text=f"{subject}{row.transition} ({row.from_state} → {row.to_state})"
                + (f": {row.reason}" if row.reason else ""),
                user=_username(row),
                url=f"{audit}?"
                + urlencode(
                    {"kind": "transitions", "model": row.model, "object_id": row.object_id}
                ),
            )
        )
    return lines


def _panel_lines(rows: Any) -> list[HistoryLine]:
    return [
        HistoryLine(
            when=row.created_at,
            kind="panel",
            text=f"{row.action.replace('_', ' ')} {row.target}",
            user=_username(row),
            url="",
            success=row.success,
        )
        for row in rows
    ]


def _newest_first(*groups: list[HistoryLine]) -> list[HistoryLine]:
    return sorted(
        (line for group in groups for line in group), key=lambda line: line.when, reverse=True
    )


def _touched(label: str, model_name: str, pk: str, using: str) -> Q:
    """Commands whose result is object ``pk`` of ``label`` or whose ``<model>_id`` parameter
    names it (as a string, or as a number when ``pk`` is one)."""
    key = f"{model_name}_id"
    values: list[str | int] = [pk]
    if pk.isdigit() and len(pk) < 19:
        values.append(int(pk))
    if connections[using].vendor == "postgresql":
        # Containment, which the GIN indexes of migration toolkit 0006 answer (a key lookup
        # such as ``params -> 'order_id'`` can use no index of a table-wide key set).
        touched = Q(result__contains={"__model__": label, "pk": pk})
        for value in values:
            touched |= Q(params__contains={key: value})
        return touched
    # Key lookups on the aliases object_history() declares ("__model__" cannot be spelled as
    # a lookup path: its "__" are separators).
    touched = Q(result_model=label, result_pk=pk)
    for value in values:
        touched |= Q(**{f"params__{key}": value})
    return touched


def object_history(
    label: str, pk: str, *, transitions: bool, commands: bool, limit: int = HISTORY_LIMIT
) -> list[HistoryLine]:
    """Everything recorded about object ``pk`` of model ``label`` (``app.model``), newest
    first: its transitions, the commands whose result is it or whose ``<model>_id`` parameter
    names it, and the panel actions on it (four queries at most)."""
    from patterns_admin.models import PanelActionLog
    from toolkit.models import CommandAuditLog, StateTransitionAudit

    model_name = label.split(".", 1)[-1]
    lines: list[list[HistoryLine]] = []
    if transitions:
        rows = StateTransitionAudit.objects.select_related("user").filter(model=label, object_id=pk)
        lines.append(
            _transition_lines(rows.order_by("-created_at", "-id")[:limit], with_object=False)
        )
    if commands:
        executed = (
            CommandAuditLog.objects.select_related("user")
            .alias(
                result_model=KeyTransform("__model__", "result"),
                result_pk=KeyTransform("pk", "result"),
            )
            .filter(_touched(label, model_name, pk, router.db_for_read(CommandAuditLog)))
        )
        lines.append(_command_lines(executed.order_by("-created_at", "-id")[:limit]))
    actions = PanelActionLog.objects.select_related("user").filter(target=f"{label}#{pk}")
    lines.append(_panel_lines(actions.order_by("-created_at", "-id")[:limit]))
    return _newest_first(*lines)


def user_activity(
    user: Any, *, transitions: bool, commands: bool, limit: int = HISTORY_LIMIT
) -> list[HistoryLine]:
    """What ``user`` did, newest first: transitions, commands and panel actions (three
    queries at most, each on its ``(user, -created_at)`` index)."""
    from patterns_admin.models import PanelActionLog
    from toolkit.models import CommandAuditLog, StateTransitionAudit

    lines: list[list[HistoryLine]] = []
    if transitions:
        rows = StateTransitionAudit.objects.select_related("user").filter(user=user)
        lines.append(
            _transition_lines(rows.order_by("-created_at", "-id")[:limit], with_object=True)
        )
    if commands:
        executed = CommandAuditLog.objects.select_related("user").filter(user=user)
        lines.append(_command_lines(executed.order_by("-created_at", "-id")[:limit]))
    actions = PanelActionLog.objects.select_related("user").filter(user=user)
    lines.append(_panel_lines(actions.order_by("-created_at", "-id")[:limit]))
    return _newest_first(*lines)
