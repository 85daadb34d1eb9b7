"""Tables of the audit log and the command log."""

from __future__ import annotations

import json
from typing import Any

import django_tables2 as tables
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from patterns_admin.tables import HtmxTable

_DATETIME_FORMAT = "Y-m-d H:i:s"


def object_url(model_label: str, object_id: str) -> str:
    """The panel page of one object (``object-transitions``), or "" when not available."""
    app_label, _, model_name = model_label.partition(".")
    try:
        return reverse("patterns_admin:object-transitions", args=[app_label, model_name, object_id])
    except NoReverseMatch:
        return ""


def compact_json(value: Any, *, limit: int = 120) -> str:
    """``value`` as one line of JSON, cut at ``limit`` characters."""
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


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

    class Meta(HtmxTable.Meta):
        empty_text = "No transition matches these filters."

    def render_object_id(self, value: str, record: Any) -> SafeString:
        url = object_url(record.model, value)
        if not url:
            return format_html("<code>{}</code>", value)
        return format_html('<a href="{}"><code>{}</code></a>', url, value)

    def render_user(self, value: Any) -> str:
        return str(value.get_username())

    def render_to_state(self, value: str) -> SafeString:
        return format_html("<strong>{}</strong>", value)


class CommandAuditTable(HtmxTable):
    """Command executions and undos: when, which command, with what, by whom, and outcome.

    ``actions`` holds the Undo control; the audit log excludes it, the command log shows it.
    """

    id = tables.Column(verbose_name="#", orderable=False)
    created_at = tables.DateTimeColumn(verbose_name="When", format=_DATETIME_FORMAT)
    command = tables.Column(verbose_name="Command")
    kind = tables.Column(verbose_name="Kind", orderable=False)
    params = tables.Column(verbose_name="Parameters", orderable=False)
    user = tables.Column(verbose_name="User", orderable=False, default="—")
    success = tables.Column(verbose_name="Outcome")
    duration_ms = tables.Column(verbose_name="ms", orderable=False, default="")
    actions = tables.TemplateColumn(
        template_name="patterns_admin/commands/undo_cell.html",
        verbose_name="Undo",
        orderable=False,
        empty_values=(),
    )

    class Meta(HtmxTable.Meta):
        empty_text = "No command matches these filters."
        row_attrs = {"id": lambda record: f"command-{record.pk}"}

    def render_id(self, value: int) -> SafeString:
        url = reverse("patterns_admin:command-list") + f"?entry={value}"
        return format_html('<a href="{}">#{}</a>', url, value)

    def render_command(self, value: str) -> SafeString:
        return format_html('<span title="{}">{}</span>', value, value.rsplit(".", 1)[-1])

    def render_kind(self, value: str, record: Any) -> SafeString:
        if record.undo_of_id is None:
            return format_html('<span class="badge badge-muted">{}</span>', value)
        url = reverse("patterns_admin:command-list") + f"?entry={record.undo_of_id}"
        return format_html(
            '<span class="badge badge-undo">{}</span> of <a href="{}">#{}</a>',
            value,
            url,
            record.undo_of_id,
        )

    def render_params(self, value: Any) -> SafeString:
        return format_html("<code>{}</code>", compact_json(value))

    def render_user(self, value: Any) -> str:
        return str(value.get_username())

    def render_success(self, value: bool, record: Any) -> SafeString:
        if not value:
            return format_html(
                '<span class="badge badge-failed">failed</span> <span class="muted">{}</span>',
                record.error[:200],
            )
        undo_row_id = getattr(record, "undo_row_id", None)
        if undo_row_id:
            url = reverse("patterns_admin:command-list") + f"?entry={record.pk}"
            return format_html(
                '<span class="badge badge-ok">ok</span> '
                '<span class="badge badge-undone">undone</span> by <a href="{}">#{}</a>',
                url,
                undo_row_id,
            )
        return mark_safe('<span class="badge badge-ok">ok</span>')

    def render_duration_ms(self, value: float) -> str:
        return f"{value:.1f}"
