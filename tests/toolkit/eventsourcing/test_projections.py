"""Persistent projections: exactly-once checkpoints, failures, rebuilds, status, commands.

The read model is ``auth.Group`` (one row per handled event), a table every test database has.
"""

from __future__ import annotations

import io
import os
import signal
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from toolkit.eventsourcing.backends.django import DjangoEventStoreBackend
from toolkit.eventsourcing.projections import (
    Projection,
    ProjectionStatus,
    catch_up,
    events_to_replay,
    projection_statuses,
    rebuild_projection,
    resume_projection,
    run_once,
    unhealthy_projections,
)
from toolkit.eventsourcing.store import StoredEvent
from toolkit.models import ProjectionCheckpoint, ProjectionSegment
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


def stop_segment(name: str) -> None:
    """Mark the projection's segments stopped, as an ``on_poison = "stop"`` give-up does."""
    ProjectionSegment.objects.filter(projection=name).update(failed=True)


def names() -> list[str]:
    return sorted(Group.objects.filter(name__startswith="paid:").values_list("name", flat=True))


def test_catch_up_handles_each_subscribed_event_once_and_moves_the_checkpoint(
    store: EventStore,
) -> None:
    pay(store, "o1", "o2", "o3")
    assert catch_up("paid-orders", store=store) == 6
    assert names() == ["paid:o1", "paid:o2", "paid:o3"]
    row = segment_row()
    assert (row.position, row.events_handled, row.owner) == (store.head_position(), 3, "")
    assert catch_up("paid-orders", store=store) == 0
    pay(store, "o4")
    assert run_once("paid-orders", store=store) == 2
    assert names() == ["paid:o1", "paid:o2", "paid:o3", "paid:o4"]


def segment_row(name: str = "paid-orders", segment: int = 0) -> ProjectionSegment:
    return ProjectionSegment.objects.get(projection=name, segment=segment)


def test_a_failing_event_rolls_back_its_batch_and_waits_for_its_retry(
    store: EventStore, settings
) -> None:
    settings.TOOLKIT = {"eventsourcing": {"projection_retry_backoff": 60}}
    pay(store, "o1", "o2", "o3")
    first_batch = run_once("paid-orders", store=store)  # o1 created, o1 paid, o2 created
    assert first_batch == 3
    PaidOrders.fail_on = "o3"
    assert run_once("paid-orders", store=store) == 0  # o2 paid, o3 paid → rolled back
    assert names() == ["paid:o1"]
    row = segment_row()
    assert row.position == store.read_all(0, 3)[-1].position
    assert (row.attempts, row.retry_position) == (1, store.head_position())
    assert row.last_error == "ValueError: cannot project o3"
    assert "Traceback" in row.last_traceback and "cannot project o3" in row.last_traceback
    assert row.retry_at is not None and row.retry_at > timezone.now() + timedelta(seconds=50)
    status = next(s for s in projection_statuses(store=store) if s.name == "paid-orders")
    assert (status.status, status.lag, status.last_error) == (
        "retrying",
        2,
        "ValueError: cannot project o3",
    )
    assert run_once("paid-orders", store=store) == 0  # backing off: nothing is tried
    PaidOrders.fail_on = None
    resume_projection("paid-orders")  # retry now
    catch_up("paid-orders", store=store)
    assert names() == ["paid:o1", "paid:o2", "paid:o3"]
    row.refresh_from_db()
    assert (row.attempts, row.retry_position, row.last_error) == (0, None, "")
    assert row.position == store.head_position()


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
    assert checkpoint.rebuilt_at is not None
    assert segment_row().position == store.head_position()


def test_a_failed_rebuild_keeps_the_old_read_model(store: EventStore) -> None:
    pay(store, "o1", "o2")
    catch_up("paid-orders", store=store)
    PaidOrders.fail_on = "o2"
    with pytest.raises(ValueError):
        rebuild_projection("paid-orders", store=store)
    assert names() == ["paid:o1", "paid:o2"]


@pytest.mark.postgres
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
    ProjectionCheckpoint.objects.create(name="gone")
    statuses = {s.name: s for s in projection_statuses(store=store)}
    paid = statuses["paid-orders"]
    head = store.head_position()
    # Lag counts the projection's own event types: one OrderPaid (OrderCreated is not its).
    assert (paid.position, paid.head, paid.lag, paid.healthy, paid.updated_at) == (
        0,
        head,
        1,
        True,
        None,
    )
    catch_up("paid-orders", store=store)
    paid = next(s for s in projection_statuses(store=store) if s.name == "paid-orders")
    assert (paid.position, paid.lag, paid.events_handled, paid.status) == (head, 0, 1, "idle")
    assert statuses["gone"].healthy is False
    assert (
        "gone: unhealthy: no projection class is registered under this name"
        in unhealthy_projections(store=store)
    )
    assert events_to_replay("paid-orders", store=store) == 1


def test_lag_beyond_the_limit_is_unhealthy(store: EventStore, settings) -> None:
    settings.TOOLKIT = {"eventsourcing": {"projection_max_lag": 1}}
    pay(store, "o1", "o2")  # two OrderPaid: the lag counts only the projection's own types
    assert "paid-orders: unhealthy: lag 2 events > 1 (unhealthy)" in unhealthy_projections(
        store=store
    )


def test_lag_between_the_thresholds_is_degraded(store: EventStore, settings) -> None:
    settings.TOOLKIT = {"eventsourcing": {"projection_degraded_lag": 1, "projection_max_lag": 5}}
    pay(store, "o1", "o2")
    status = next(s for s in projection_statuses(store=store) if s.name == "paid-orders")
    assert (status.health, status.healthy, status.lag) == ("degraded", False, 2)
    assert status.problems == ("lag 2 events > 1 (degraded)",)


def test_lag_counts_events_not_positions_skipped_by_rolled_back_appends(
    store: EventStore,
) -> None:
    store.append("o1", "Order", "OrderCreated", {})
    with pytest.raises(RuntimeError), transaction.atomic():
        store.append("rolled-back", "Order", "OrderCreated", {})
        raise RuntimeError("roll back")  # on PostgreSQL its position is never reused
    store.append("o1", "Order", "OrderPaid", {})
    paid = next(s for s in projection_statuses(store=store) if s.name == "paid-orders")
    assert (paid.position, paid.lag, paid.head) == (0, 1, store.head_position())


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
    assert out.getvalue().splitlines()[1:] == [  # batches of 3
        "paid-orders: 3 event(s)",
        "paid-orders: 1 event(s)",
        "Stopped.",
    ]
    assert names() == ["paid:o1", "paid:o2"]


def test_run_projections_stops_gracefully_on_sigterm(store: EventStore) -> None:
    pay(store, "o1", "o2", "o3")
    out = io.StringIO()
    call_command("run_projections", "stop-after-first", "--interval", "0.01", stdout=out)
    assert out.getvalue().splitlines()[1:] == [
        "Received SIGTERM; stopping after this batch.",
        "stop-after-first: 3 event(s)",
        "Stopped.",
    ]
    # The batch in progress committed with its checkpoint; the next one never started.
    assert names() == ["paid:o1"]
    third = store.read_all(0, 3)[-1].position
    assert segment_row("stop-after-first").position == third
    # It gave its segment back on the way out.
    assert segment_row("stop-after-first").owner == ""


def test_projection_health_command_reads_the_statuses_once(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.eventsourcing.projections import health as module
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
    assert (
        f"paid-orders: ok status=idle position=0 head={head} lag=0 dead_letters=0" in out.getvalue()
    )
    PaidOrders.fail_on = "o1"
    pay(store, "o1")
    catch_up("paid-orders", store=store)  # a retry pending: not yet unhealthy
    call_command("projection_health", stdout=io.StringIO())
    stop_segment("paid-orders")
    with pytest.raises(SystemExit) as info:
        call_command("projection_health", stdout=io.StringIO(), stderr=io.StringIO())
    assert info.value.code == 1


FAST_RETRIES = {"eventsourcing": {"projection_retry_backoff": 0.01, "projection_max_attempts": 3}}


def drain(name: str, store: EventStore, *, seconds: float = 10.0) -> None:
    """Step one runner until every segment reaches the head or waits on a stopped event."""
    import time

    from toolkit.eventsourcing.projections import ProjectionRunner

    runner = ProjectionRunner(name, store=store)
    runner.start()
    deadline = time.monotonic() + seconds
    head = store.head_position()
    try:
        while time.monotonic() < deadline:
            runner.step()
            rows = ProjectionSegment.objects.filter(projection=name)
            if all(r.position >= head or r.failed for r in rows):
                return
            time.sleep(0.01)
        raise AssertionError(f"{name} did not reach {head}: {list(rows.values())}")
    finally:
        runner.stop()


def test_a_poison_event_is_retried_dead_lettered_and_the_projection_moves_on(
    store: EventStore, settings
) -> None:
    from toolkit.eventsourcing.projections import (
        DeadLetterNotFound,
        dead_letters,
        retry_dead_letter,
    )

    settings.TOOLKIT = FAST_RETRIES
    pay(store, "o1", "o2", "o3")
    PaidOrders.fail_on = "o2"
    drain("paid-orders", store)
    assert names() == ["paid:o1", "paid:o3"]  # o2 skipped, o3 after it applied
    [letter] = dead_letters("paid-orders")
    o2_paid = next(e for e in store.load("o2") if e.event_type == "OrderPaid")
    assert (letter.position, letter.event_id, letter.aggregate_id, letter.event_type) == (
        o2_paid.position,
        o2_paid.event_id,
        "o2",
        "OrderPaid",
    )
    assert (letter.attempts, letter.error) == (3, "ValueError: cannot project o2")
    assert "Traceback" in letter.traceback and "cannot project o2" in letter.traceback
    row = segment_row()
    assert (row.position, row.attempts, row.retry_position) == (store.head_position(), 0, None)
    status = next(s for s in projection_statuses(store=store) if s.name == "paid-orders")
    assert (status.dead_letters, status.lag, status.status) == (1, 0, "idle")
    # Still failing: the letter stays, with one attempt more.
    with pytest.raises(ValueError, match="cannot project o2"):
        retry_dead_letter("paid-orders", letter.pk, store=store)
    letter.refresh_from_db()
    assert letter.attempts == 4
    assert names() == ["paid:o1", "paid:o3"]
    PaidOrders.fail_on = None
    retry_dead_letter("paid-orders", letter.pk, store=store)
    assert names() == ["paid:o1", "paid:o2", "paid:o3"]  # applied once
    assert dead_letters("paid-orders") == []
    with pytest.raises(DeadLetterNotFound) as info:
        retry_dead_letter("paid-orders", letter.pk, store=store)
    assert info.value.args == (f"Projection 'paid-orders' has no dead letter #{letter.pk}",)
    assert names() == ["paid:o1", "paid:o2", "paid:o3"]


def test_drop_deletes_a_dead_letter_without_applying_it(store: EventStore, settings) -> None:
    from toolkit.eventsourcing.projections import (
        DeadLetterNotFound,
        dead_letters,
        drop_dead_letter,
    )

    settings.TOOLKIT = FAST_RETRIES
    pay(store, "o1")
    PaidOrders.fail_on = "o1"
    drain("paid-orders", store)
    [letter] = dead_letters()
    drop_dead_letter("paid-orders", letter.pk)
    assert dead_letters() == [] and names() == []
    with pytest.raises(DeadLetterNotFound):
        drop_dead_letter("paid-orders", letter.pk)


class StopOnPoison(PaidOrders):
    abstract = True
    name = "stop-on-poison"
    on_poison = "stop"


def test_a_projection_that_stops_on_poison_waits_for_the_operator(
    store: EventStore, settings
) -> None:
    from toolkit.eventsourcing.projections import dead_letters

    settings.TOOLKIT = FAST_RETRIES
    projections.register(StopOnPoison.name, StopOnPoison)
    try:
        pay(store, "o1", "o2", "o3")
        PaidOrders.fail_on = "o2"
        drain("stop-on-poison", store)
        assert names() == ["paid:o1"]  # stopped at o2: o3 waits behind it
        row = segment_row("stop-on-poison")
        assert (row.failed, row.attempts, row.last_error) == (
            True,
            3,
            "ValueError: cannot project o2",
        )
        assert dead_letters("stop-on-poison") == []
        status = next(s for s in projection_statuses(store=store) if s.name == "stop-on-poison")
        assert (status.status, status.health) == ("failed", "unhealthy")
        PaidOrders.fail_on = None
        resume_projection("stop-on-poison")
        drain("stop-on-poison", store)
        assert names() == ["paid:o1", "paid:o2", "paid:o3"]
    finally:
        projections.unregister(StopOnPoison.name)


def test_projection_class_settings_are_checked() -> None:
    with pytest.raises(TypeError) as info:

        class BadPoison(Projection):
            abstract = True
            on_poison = "ignore"  # type: ignore[assignment]

    assert info.value.args == (
        "BadPoison.on_poison is 'ignore'; valid choices are: 'skip', 'stop'",
    )
    with pytest.raises(TypeError) as info:

        class BadSegments(Projection):
            abstract = True
            segments = 0

    assert info.value.args == ("BadSegments.segments is 0; it must be an int >= 1",)


def test_a_paused_projection_handles_nothing_until_resumed(store: EventStore) -> None:
    from toolkit.eventsourcing.projections import pause_projection

    pay(store, "o1")
    pause_projection("paid-orders")
    assert catch_up("paid-orders", store=store) == 0
    status = next(s for s in projection_statuses(store=store) if s.name == "paid-orders")
    assert (status.status, status.paused, status.lag) == ("paused", True, 1)
    resume_projection("paid-orders")
    assert catch_up("paid-orders", store=store) == 2
    assert names() == ["paid:o1"]


def test_rewind_to_a_position_rebuilds_up_to_it_and_leaves_the_rest_to_the_workers(
    store: EventStore,
) -> None:
    from toolkit.eventsourcing.projections import rewind_projection

    pay(store, "o1", "o2", "o3")
    catch_up("paid-orders", store=store)
    o1_paid = next(e for e in store.load("o1") if e.event_type == "OrderPaid")
    assert events_to_replay("paid-orders", position=o1_paid.position, store=store) == 3
    result = rewind_projection("paid-orders", position=o1_paid.position, store=store)
    assert (result.position, result.replayed_now, result.to_replay) == (o1_paid.position, 1, 2)
    assert names() == ["paid:o1"]  # reset, then replayed up to the position
    assert segment_row().position == o1_paid.position
    catch_up("paid-orders", store=store)
    assert names() == ["paid:o1", "paid:o2", "paid:o3"]


class ClearsItsTail(PaidOrders):
    abstract = True
    name = "clears-its-tail"

    def clear_after(self, position: int) -> bool:
        Group.objects.filter(name__startswith="paid:").exclude(name="paid:o1").delete()
        return True


def test_rewind_to_a_timestamp_uses_the_projections_own_clear(store: EventStore) -> None:
    from toolkit.eventsourcing.projections import resolve_position, rewind_projection

    projections.register(ClearsItsTail.name, ClearsItsTail)
    try:
        pay(store, "o1")
        cut = timezone.now()
        pay(store, "o2")
        catch_up("clears-its-tail", store=store)
        last_before = store.load("o1")[-1].position
        assert resolve_position(timestamp=cut, store=store) == last_before
        assert events_to_replay("clears-its-tail", position=last_before, store=store) == 1
        result = rewind_projection("clears-its-tail", timestamp=cut, store=store)
        assert (result.position, result.replayed_now, result.to_replay) == (last_before, 0, 1)
        assert names() == ["paid:o1"]
        catch_up("clears-its-tail", store=store)
        assert names() == ["paid:o1", "paid:o2"]
    finally:
        projections.unregister(ClearsItsTail.name)


def test_rewind_needs_exactly_one_target() -> None:
    from toolkit.eventsourcing.projections import resolve_position

    with pytest.raises(ValueError) as info:
        resolve_position()
    assert info.value.args == (
        "Give a position or a timestamp to rewind to, not position=None and timestamp=None",
    )
    with pytest.raises(ValueError) as info:
        resolve_position(position=-1)
    assert info.value.args == ("Cannot rewind to position -1; positions start at 0",)
    with pytest.raises(ValueError) as info:
        resolve_position(position=2**63)
    assert info.value.args == (
        "Cannot rewind to position 9223372036854775808; positions end at "
        "9223372036854775807 (2**63 - 1)",
    )


class Segmented(PaidOrders):
    abstract = True
    name = "segmented"
    segments = 4


def test_two_runners_split_the_segments_and_rebalance_when_one_stops(
    store: EventStore,
) -> None:
    from toolkit.eventsourcing.projections import ProjectionRunner, segment_of

    projections.register(Segmented.name, Segmented)
    try:
        pay(store, *[f"o{i}" for i in range(12)])
        first = ProjectionRunner("segmented", store=store, worker_id="first")
        second = ProjectionRunner("segmented", store=store, worker_id="second")
        first.start()
        assert first.held == [0, 1, 2, 3]  # alone: all of them
        second.start()
        assert second.held == []  # nothing free yet
        first.beat(force=True)  # sees two live workers: keeps its fair share
        assert first.held == [0, 1]
        second.beat(force=True)
        assert second.held == [2, 3]
        while first.step() + second.step():
            pass
        assert names() == sorted(f"paid:o{i}" for i in range(12))
        handled = dict(
            ProjectionSegment.objects.filter(projection="segmented").values_list(
                "segment", "events_handled"
            )
        )
        expected = Counter(segment_of(f"o{i}", 4) for i in range(12))
        assert handled == {s: expected[s] for s in range(4)}
        first.stop()
        second.beat(force=True)
        assert second.held == [0, 1, 2, 3]
        second.stop()
    finally:
        projections.unregister(Segmented.name)


def test_segment_of_is_a_stable_crc32() -> None:
    from toolkit.eventsourcing.projections import segment_of

    assert [segment_of(s, 8) for s in ("o1", "order-42", "ü")] == [
        zlib.crc32(b"o1") % 8,
        zlib.crc32(b"order-42") % 8,
        zlib.crc32("ü".encode()) % 8,
    ]
    assert segment_of("anything", 1) == 0


def test_changing_segments_repartitions_only_when_positions_agree(store: EventStore) -> None:
    from toolkit.eventsourcing.projections import ProjectionError, ensure_rows

    projections.register(Segmented.name, Segmented)
    try:
        pay(store, "o1", "o2", "o3")
        catch_up("segmented", store=store)  # all four segments at the head
        Segmented.segments = 2
        ensure_rows(Segmented())
        rows = ProjectionSegment.objects.filter(projection="segmented")
        assert sorted(rows.values_list("segment", "position")) == [
            (0, store.head_position()),
            (1, store.head_position()),
        ]
        ProjectionSegment.objects.filter(projection="segmented", segment=1).update(position=0)
        Segmented.segments = 3
        with pytest.raises(ProjectionError, match="rebuild_projection segmented"):
            ensure_rows(Segmented())
        assert rebuild_projection("segmented", store=store) == 3
        assert ProjectionSegment.objects.filter(projection="segmented").count() == 3
    finally:
        Segmented.segments = 4
        projections.unregister(Segmented.name)


def test_projections_command_lists_retries_and_drops_dead_letters(
    store: EventStore, settings, caplog: pytest.LogCaptureFixture
) -> None:
    settings.TOOLKIT = FAST_RETRIES
    pay(store, "o1", "o2")
    PaidOrders.fail_on = "o1"
    drain("paid-orders", store)
    from toolkit.eventsourcing.projections import dead_letters

    [letter] = dead_letters("paid-orders")
    out = io.StringIO()
    call_command("projections", "dead-letters", "paid-orders", stdout=out)
    assert out.getvalue() == (
        f"#{letter.pk} position={letter.position} OrderPaid o1 attempts=3: "
        "ValueError: cannot project o1\n"
    )
    with pytest.raises(CommandError, match=r"1 dead letter\(s\) of paid-orders failed again\."):
        call_command(
            "projections",
            "retry",
            "paid-orders",
            "--all",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    PaidOrders.fail_on = None
    with caplog.at_level("WARNING", logger="toolkit.projections"):
        call_command("projections", "retry", "paid-orders", str(letter.pk), stdout=out)
    assert names() == ["paid:o1", "paid:o2"]
    assert "projections retry paid-orders by " in caplog.text
    with pytest.raises(CommandError) as info:
        call_command("projections", "drop", "paid-orders", str(letter.pk), "--yes")
    assert str(info.value) == f"Projection 'paid-orders' has no dead letter #{letter.pk}"
    out = io.StringIO()
    call_command("projections", "dead-letters", "paid-orders", stdout=out)
    assert out.getvalue() == "paid-orders has no dead letters.\n"


def test_projections_command_pauses_rewinds_and_reports(store: EventStore) -> None:
    pay(store, "o1", "o2")
    catch_up("paid-orders", store=store)
    out = io.StringIO()
    call_command("projections", "pause", "paid-orders", stdout=out)
    call_command("projections", "status", "paid-orders", stdout=out)
    call_command("projections", "resume", "paid-orders", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Paused paid-orders."
    assert lines[1].startswith("paid-orders: healthy status=paused position=")
    assert lines[2].startswith("  segment 0: position=") and "holder=-" in lines[2]
    assert lines[-1] == "Resumed paid-orders."
    out = io.StringIO()
    call_command("projections", "rewind", "paid-orders", "--position", "0", "--yes", stdout=out)
    assert out.getvalue() == (
        "Rewound paid-orders to position 0: 0 event(s) replayed now, 2 left to the workers.\n"
    )
    assert names() == []
    with pytest.raises(CommandError) as info:
        call_command("projections", "rewind", "paid-orders", "--timestamp", "yesterday")
    assert str(info.value) == (
        "--timestamp 'yesterday' is not an ISO 8601 date and time with a UTC offset, "
        "e.g. 2026-12-01T00:00:00+00:00"
    )
    with pytest.raises(CommandError) as info:  # well formed, no such day or hour
        call_command("projections", "rewind", "paid-orders", "--timestamp", "2026-02-30T25:61Z")
    assert str(info.value).startswith("--timestamp '2026-02-30T25:61Z' is not an ISO 8601")
    with pytest.raises(CommandError) as info:
        call_command("projections", "rewind", "paid-orders", "--position", str(2**63))
    assert "positions end at 9223372036854775807" in str(info.value)
    with pytest.raises(CommandError) as info:
        call_command("projections", "pause", "nope")
    assert str(info.value).startswith("No projection named 'nope'; registered: ")


def test_lag_beyond_the_exact_range_is_an_upper_bound(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.eventsourcing.projections import health

    monkeypatch.setattr(health, "EXACT_LAG_RANGE", 1)
    pay(store, "o1", "o2")
    status = next(s for s in projection_statuses(store=store) if s.name == "paid-orders")
    assert (status.lag, status.lag_exact) == (2, False)  # counted, not hashed per segment


def test_the_backend_contract_defaults_read_the_feed() -> None:
    """The memory backend inherits the contract's defaults for the projections' reads."""
    from datetime import UTC, datetime

    from toolkit.eventsourcing.backends.memory import MemoryEventStoreBackend

    memory = EventStore(MemoryEventStoreBackend())
    first = memory.append("a", "Order", "OrderPaid", {})
    memory.append("b", "Order", "OrderCreated", {})
    cut = datetime.now(UTC)
    last = memory.append("c", "Order", "OrderPaid", {})
    backend = memory.backend
    assert backend.stream_keys_after(0, ["OrderPaid"]) == [
        (first.position, "a"),
        (last.position, "c"),
    ]
    assert backend.stream_keys_after(0, limit=1) == [(first.position, "a")]
    assert backend.position_before(cut) == last.position - 1
    assert backend.position_before(datetime(2000, 1, 1, tzinfo=UTC)) == 0
    assert backend.positions_commit_in_order is True
