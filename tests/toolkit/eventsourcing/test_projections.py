"""Persistent projections: exactly-once checkpoints, failures, rebuilds, status, commands.

The read model is ``auth.Group`` (one row per handled event), a table every test database has.
"""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
from toolkit.eventsourcing.projections import (
    Projection,
    ProjectionStatus,
    catch_up,
    events_to_replay,
    projection_statuses,
    rebuild_projection,
    run_once,
    unhealthy_projections,
)
from toolkit.eventsourcing.store import StoredEvent
from toolkit.models import ProjectionCheckpoint
from toolkit.patterns.event_store import EventStore
from toolkit.registry import projections

pytestmark = pytest.mark.django_db(transaction=True)


class PaidOrders(Projection):
    abstract = True
    name = "paid-orders"
    event_types = ("OrderPaid",)
    batch_size = 3
    fail_on: str | None = None

    def handle(self, event: StoredEvent) -> None:
        if event.aggregate_id == type(self).fail_on:
            raise ValueError(f"cannot project {event.aggregate_id}")
        Group.objects.create(name=f"paid:{event.aggregate_id}")

    def reset(self) -> None:
        Group.objects.filter(name__startswith="paid:").delete()


class StopAfterFirst(PaidOrders):
    abstract = True
    name = "stop-after-first"

    def handle(self, event: StoredEvent) -> None:
        super().handle(event)
        os.kill(os.getpid(), signal.SIGTERM)


@pytest.fixture
def store() -> EventStore:
    return EventStore(DjangoEventStoreBackend())


@pytest.fixture(autouse=True)
def _registered() -> Iterator[None]:
    projections.register(PaidOrders.name, PaidOrders)
    projections.register(StopAfterFirst.name, StopAfterFirst)
    yield
    PaidOrders.fail_on = None
    projections.unregister(PaidOrders.name)
    projections.unregister(StopAfterFirst.name)


def pay(store: EventStore, *ids: str) -> None:
    for aggregate_id in ids:
        store.append(aggregate_id, "Order", "OrderCreated", {})
        store.append(aggregate_id, "Order", "OrderPaid", {})


def names() -> list[str]:
    return sorted(Group.objects.filter(name__startswith="paid:").values_list("name", flat=True))


def test_catch_up_handles_each_subscribed_event_once_and_moves_the_checkpoint(
    store: EventStore,
) -> None:
    pay(store, "o1", "o2", "o3")
    assert catch_up("paid-orders", store=store) == 6
    assert names() == ["paid:o1", "paid:o2", "paid:o3"]
    checkpoint = ProjectionCheckpoint.objects.get(name="paid-orders")
    assert (checkpoint.position, checkpoint.events_handled, checkpoint.status) == (
        store.head_position(),
        3,
        "idle",
    )
    assert catch_up("paid-orders", store=store) == 0
    pay(store, "o4")
    assert run_once("paid-orders", store=store) == 2
    assert names() == ["paid:o1", "paid:o2", "paid:o3", "paid:o4"]


def test_a_failing_batch_rolls_back_with_its_checkpoint_and_records_the_error(
    store: EventStore,
) -> None:
    pay(store, "o1", "o2", "o3")
    first_batch = run_once("paid-orders", store=store)  # o1 created, o1 paid, o2 created
    assert first_batch == 3
    PaidOrders.fail_on = "o3"
    with pytest.raises(ValueError, match="cannot project o3"):
        run_once("paid-orders", store=store)  # o2 paid, o3 created, o3 paid → rolled back
    assert names() == ["paid:o1"]
    checkpoint = ProjectionCheckpoint.objects.get(name="paid-orders")
    assert checkpoint.position == store.read_all(0, 3)[-1].position
    assert (checkpoint.status, checkpoint.last_error) == ("failed", "ValueError: cannot project o3")
    assert checkpoint.last_error_position == store.head_position()
    status = next(s for s in projection_statuses(store=store) if s.name == "paid-orders")
    assert (status.healthy, status.lag, status.last_error) == (
        False,
        3,
        "ValueError: cannot project o3",
    )
    assert unhealthy_projections(store=store) == [
        "paid-orders: last error: ValueError: cannot project o3"
    ]
    PaidOrders.fail_on = None
    catch_up("paid-orders", store=store)
    assert names() == ["paid:o1", "paid:o2", "paid:o3"]
    checkpoint.refresh_from_db()
    assert (checkpoint.last_error, checkpoint.status) == ("", "idle")


def test_rebuild_replays_from_zero(store: EventStore) -> None:
    pay(store, "o1", "o2")
    catch_up("paid-orders", store=store)
    Group.objects.filter(name="paid:o1").delete()
    Group.objects.create(name="paid:stale")
    seen: list[tuple[int, int]] = []
    assert (
        rebuild_projection("paid-orders", progress=lambda d, t: seen.append((d, t)), store=store)
        == 2
    )
    assert names() == ["paid:o1", "paid:o2"]
    assert seen[0] == (0, 2) and seen[-1] == (2, 2)
    checkpoint = ProjectionCheckpoint.objects.get(name="paid-orders")
    assert checkpoint.rebuilt_at is not None and checkpoint.position == store.head_position()


def test_a_failed_rebuild_keeps_the_old_read_model(store: EventStore) -> None:
    pay(store, "o1", "o2")
    catch_up("paid-orders", store=store)
    PaidOrders.fail_on = "o2"
    with pytest.raises(ValueError):
        rebuild_projection("paid-orders", store=store)
    assert names() == ["paid:o1", "paid:o2"]


def test_readers_see_the_old_read_model_until_the_rebuild_commits(
    store: EventStore, postgres_only: None
) -> None:
    import psycopg

    pay(store, "o1", "o2", "o3", "o4")
    catch_up("paid-orders", store=store)
    params = connection.get_connection_params()
    observed: list[int] = []
    with psycopg.connect(**params, autocommit=True) as reader:

        def progress(done: int, total: int) -> None:
            row = reader.execute(
                "SELECT COUNT(*) FROM auth_group WHERE name LIKE 'paid:%%'"
            ).fetchone()
            observed.append(row[0] if row else -1)

        rebuild_projection("paid-orders", progress=progress, store=store)
        after = reader.execute(
            "SELECT COUNT(*) FROM auth_group WHERE name LIKE 'paid:%%'"
        ).fetchone()
    assert set(observed) == {4}  # never 0 (reset) nor 1..3 (half built)
    assert after == (4,)


def test_status_reports_position_head_and_lag(store: EventStore) -> None:
    pay(store, "o1")
    ProjectionCheckpoint.objects.create(name="gone", position=0)
    statuses = {s.name: s for s in projection_statuses(store=store)}
    paid = statuses["paid-orders"]
    head = store.head_position()
    assert (paid.position, paid.head, paid.lag, paid.healthy, paid.updated_at) == (
        0,
        head,
        2,
        True,
        None,
    )
    catch_up("paid-orders", store=store)
    paid = next(s for s in projection_statuses(store=store) if s.name == "paid-orders")
    assert (paid.position, paid.lag, paid.events_handled, paid.status) == (head, 0, 1, "idle")
    assert statuses["gone"].healthy is False
    assert "gone: no projection class is registered under this name" in unhealthy_projections(
        store=store
    )
    assert events_to_replay("paid-orders", store=store) == 1


def test_lag_beyond_the_limit_is_unhealthy(store: EventStore, settings) -> None:
    settings.TOOLKIT = {"eventsourcing": {"projection_max_lag": 1}}
    pay(store, "o1")
    head = store.head_position()
    assert f"paid-orders: lag 2 events (head {head}, position 0)" in unhealthy_projections(
        store=store
    )


def test_lag_counts_events_not_positions_skipped_by_rolled_back_appends(
    store: EventStore,
) -> None:
    store.append("o1", "Order", "OrderCreated", {})
    with pytest.raises(RuntimeError), transaction.atomic():
        store.append("rolled-back", "Order", "OrderCreated", {})
        raise RuntimeError("roll back")  # on PostgreSQL its position is never reused
    store.append("o1", "Order", "OrderPaid", {})
    paid = next(s for s in projection_statuses(store=store) if s.name == "paid-orders")
    assert (paid.position, paid.lag, paid.head) == (0, 2, store.head_position())


def test_rebuild_command_prints_the_count(store: EventStore) -> None:
    pay(store, "o1")
    out, err = io.StringIO(), io.StringIO()
    call_command("rebuild_projection", "paid-orders", stdout=out, stderr=err)
    assert out.getvalue() == "Rebuilt paid-orders: 1 event(s) replayed.\n"
    assert "paid-orders" in err.getvalue()  # the tqdm progress bar
    with pytest.raises(CommandError) as info:
        call_command("rebuild_projection", "nope")
    assert str(info.value).startswith("No projection named 'nope'; registered: ")


def test_run_projections_once_catches_up(store: EventStore) -> None:
    pay(store, "o1", "o2")
    out = io.StringIO()
    call_command("run_projections", "paid-orders", "--once", stdout=out)
    assert out.getvalue() == "paid-orders: 4 event(s)\n"
    assert names() == ["paid:o1", "paid:o2"]


def test_run_projections_stops_gracefully_on_sigterm(store: EventStore) -> None:
    pay(store, "o1", "o2", "o3")
    out = io.StringIO()
    call_command("run_projections", "stop-after-first", "--interval", "0.01", stdout=out)
    assert out.getvalue() == (
        "Received SIGTERM; stopping after this batch.\nstop-after-first: 3 event(s)\nStopped.\n"
    )
    # The batch in progress committed with its checkpoint; the next one never started.
    assert names() == ["paid:o1"]
    third = store.read_all(0, 3)[-1].position
    assert ProjectionCheckpoint.objects.get(name="stop-after-first").position == third


def test_projection_health_command_reads_the_statuses_once(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.eventsourcing import projections as module
    from toolkit.management.commands import projection_health

    calls: list[int] = []
    read = module.projection_statuses

    def counting(*, store: EventStore | None = None) -> list[ProjectionStatus]:
        calls.append(1)
        return read(store=store)

    monkeypatch.setattr(module, "projection_statuses", counting)
    monkeypatch.setattr(projection_health, "projection_statuses", counting)
    call_command("projection_health", stdout=io.StringIO())
    assert len(calls) == 1


def test_projection_health_command_exit_code(store: EventStore) -> None:
    out = io.StringIO()
    call_command("projection_health", stdout=out)
    head = store.head_position()
    assert f"paid-orders: ok position=0 head={head} lag={head}" in out.getvalue()
    PaidOrders.fail_on = "o1"
    pay(store, "o1")
    with pytest.raises(ValueError):
        run_once("paid-orders", store=store)
    with pytest.raises(SystemExit) as info:
        call_command("projection_health", stdout=io.StringIO(), stderr=io.StringIO())
    assert info.value.code == 1
