"""The transactional outbox, in the column layout of Debezium's outbox event router.

With ``TOOLKIT["outbox"]["enabled"]`` every append writes one row per event here, in the
append's transaction. A Debezium connector pointed at the table routes the rows to Kafka with
no custom code (docs/outbox.md has the connector configuration); ``manage.py relay_outbox``
publishes them to RabbitMQ or Redis for teams without Kafka.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    """One event waiting to leave the database.

    The column names are the router's defaults: ``id`` (the event id, which consumers use to
    deduplicate), ``aggregatetype`` (the routing key / topic), ``aggregateid`` (the message
    key), ``type`` and ``payload``; ``timestamp`` and ``headers`` (the event's envelope:
    correlation and causation ids, user, schema version, metadata) travel along. ``position``
    is the event's global position, so relays publish in the order of the log.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    aggregatetype = models.CharField(max_length=255)
    aggregateid = models.CharField(max_length=255)
    type = models.CharField(max_length=255)
    payload = models.JSONField(default=dict)
    timestamp = models.DateTimeField(default=timezone.now)
    headers = models.JSONField(default=dict, blank=True)
    position = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "outbox event"
        db_table = "toolkit_outbox"
        indexes = [models.Index(fields=["position"], name="tk_outbox_position")]

    def __str__(self) -> str:
        return f"{self.aggregatetype} {self.aggregateid} {self.type}"
