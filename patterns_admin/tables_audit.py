"""Tables of the audit log and the command log.

Their rows render through one template each (``row_template_name``): at 50 rows a page,
django-tables2's cell-by-cell rendering cost more than the database. The columns still give
the headers and what can be sorted.
"""

from __future__ import annotations

import json
from typing import Any

import django_tables2 as tables
from django.urls import NoReverseMatch, reverse

from patterns_admin.tables import HtmxTable

_DATETIME_FORMAT = "Y-m-d H:i:s T"


def object_url(model_label: str, object_id: str, *, page: str = "object-transitions") -> str:
    """A panel page of one object (``object-transitions`` or ``object-history``), or "" when
    it is not available (the model has no state machine, the URL is not installed)."""
    app_label, _, model_name = model_label.partition(".")
    try:
        return reverse(f"patterns_admin:{page}", args=[app_label, model_name, object_id])
    except NoReverseMatch:
        return ""


def compact_json(value: Any, *, limit: int = 120) -> str:
    """``value`` as one line of JSON, cut at ``limit`` characters."""
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _undoable_class(path: str) -> bool:
    """Whether the command class at ``path`` is registered in this process and undoable.

    A row whose class was removed or renamed cannot be rebuilt, so it offers no Undo. Whether
    its ``undo()`` succeeds *now* is what the confirmation's dry run tells.
    """
    from toolkit import registry

    return path in registry.commands and registry.commands.get(path).is_undoable()


class TransitionAuditTable(HtmxTable):
    """State transitions: when, which object, which transition, from → to, who, why."""

    created_at = tables.DateTimeColumn(verbose_name="When", format=_DATETIME_FORMAT)
    model = tables.Column(verbose_name="Model")
    object_id = tables.Column(verbose_name="Object", orderable=False)
    transition = tables.Column(verbose_name="Transition")
    from_state = tables.Column(verbose_name="From")
    to_state = tables.Column(verbose_name="To")
    user = tables.Column(verbose_name="User", orderable=False, default="—")
    reason = tables.Column(verbose_name="Reason", orderable=False, default="")

    row_template_name = "patterns_admin/audit/transition_rows.html"

    class Meta(HtmxTable.Meta):
        empty_text = "No transition matches these filters."

    def prepare_records(self, records: list[Any]) -> None:
        for record in records:
            record.panel_url = object_url(record.model, record.object_id)


class CommandAuditTable(HtmxTable):
    """Command executions and undos: when, which command, with what, by whom, and outcome.

    ``actions`` holds the Undo control; the audit log excludes it, the command log shows it
    (``may_undo`` says whether this user may use it).
    """

    id = tables.Column(verbose_name="#", orderable=False)
    created_at = tables.DateTimeColumn(verbose_name="When", format=_DATETIME_FORMAT)
    command = tables.Column(verbose_name="Command")
    kind = tables.Column(verbose_name="Kind", orderable=False)
    params = tables.Column(verbose_name="Parameters", orderable=False)
    user = tables.Column(verbose_name="User", orderable=False, default="—")
    success = tables.Column(verbose_name="Outcome")
    duration_ms = tables.Column(verbose_name="ms", orderable=False, default="")
    actions = tables.Column(verbose_name="Undo", orderable=False, empty_values=())

    row_template_name = "patterns_admin/commands/rows.html"
    may_undo = False

    class Meta(HtmxTable.Meta):
        empty_text = "No command matches these filters."

    def prepare_records(self, records: list[Any]) -> None:
        for record in records:
            record.panel_short_name = record.command.rsplit(".", 1)[-1]
            record.panel_params = compact_json(self.mask(record.params))
            ms = record.duration_ms
            record.panel_ms = "" if ms is None else f"{ms:.1f}"
            record.panel_can_undo = record.can_undo and _undoable_class(record.command)
            if self.may_undo and record.panel_can_undo:
                record.panel_confirm_url = reverse(
                    "patterns_admin:command-undo-confirm", args=[record.pk]
                )
