"""The celery EventBus backend: eager mode, and a real Redis broker (db 11) with a worker."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import threading
import uuid

import pytest
from celery import Celery
from django.test import override_settings

from tests import services
from toolkit.contrib.celery import TASK_NAME, handler_path, resolve_handler, run_event_handler
from toolkit.patterns.exceptions import EventDispatchError, ValidationError
from toolkit.patterns.observer import EventBus

REDIS_BROKER = "redis://127.0.0.1:6379/11"

# Every task records its idempotency key in the database (in the handler's transaction).
pytestmark = pytest.mark.django_db(transaction=True)

received: list[tuple[str, object]] = []
arrived = threading.Event()


def record_receipt(payload):
    received.append(("receipt", payload))
    arrived.set()


async def record_async(payload):
    await asyncio.sleep(0)
    received.append(("async", payload))


def explode(payload):
    raise RuntimeError("handler failed in the worker")


flaky_calls: list[object] = []


def flaky(payload):
    """Fails twice, then writes its effect (a Group row) and succeeds."""
    from django.contrib.auth.models import Group

    flaky_calls.append(payload)
    Group.objects.create(name=f"flaky-{len(flaky_calls)}")
    if len(flaky_calls) < 3:
        raise RuntimeError(f"attempt {len(flaky_calls)} failed")


@pytest.fixture(autouse=True)
def clean() -> None:
    received.clear()
    arrived.clear()
    flaky_calls.clear()


@pytest.fixture
def eager_app():
    app = Celery("toolkit-core-eager", set_as_current=True)
    app.conf.update(task_always_eager=True, task_eager_propagates=True, broker_url="memory://")
    app.set_current()
    yield app
    app.close()


def test_handler_path_round_trips() -> None:
    path = handler_path(record_receipt)
    assert path == f"{__name__}:record_receipt"
    assert resolve_handler(path) is record_receipt


def test_handler_path_rejects_local_functions_and_lambdas() -> None:
    with pytest.raises(ValidationError) as info:
        handler_path(lambda p: p)
    assert str(info.value).endswith(
        "cannot run as a Celery task: only module-level functions can be imported by the worker"
    )


def test_eager_mode_runs_every_handler_as_a_task(eager_app) -> None:
    bus = EventBus(backend="celery")
    bus.subscribe("order.paid", record_receipt)
    bus.subscribe("order.*", record_async)

    bus.emit("order.paid", {"id": 1})

    assert received == [("receipt", {"id": 1}), ("async", {"id": 1})]
    assert run_event_handler.name == TASK_NAME


def test_setting_selects_the_celery_backend(eager_app) -> None:
    bus = EventBus()  # follows TOOLKIT["patterns"]["event_bus"]
    sent: list = []
    bus.subscribe("ping", record_receipt)
    with override_settings(TOOLKIT={"patterns": {"event_bus": "celery"}}):
        original = run_event_handler.delay

        def spy(*args):
            sent.append(args)
            return original(*args)

        run_event_handler.delay = spy
        try:
            bus.emit("ping", {"n": 1})
        finally:
            del run_event_handler.delay
    assert len(sent) == 1
    path, event, payload, key = sent[0]
    assert (path, event, payload) == (f"{__name__}:record_receipt", "ping", {"n": 1})
    assert key.endswith(f":{__name__}:record_receipt")
    bus.emit("ping", {"n": 2})  # back to the in-process default
    assert received == [("receipt", {"n": 1}), ("receipt", {"n": 2})]


def test_payload_not_json_serialisable_sends_nothing(eager_app) -> None:
    bus = EventBus(backend="celery")
    bus.subscribe("order.paid", record_receipt)
    with pytest.raises(ValidationError) as info:
        bus.emit("order.paid", {"when": object})
    assert info.value.field == "payload"
    assert str(info.value) == (
        "Payload of event 'order.paid' is not JSON-serialisable for Celery: "
        "{'when': <class 'object'>} (Object of type type is not JSON serializable)"
    )
    assert received == []


def test_payload_with_datetime_uuid_and_decimal_goes_through_celerys_json(eager_app) -> None:
    """The check is the task serializer itself: kombu's JSON encodes these types."""
    payload = {
        "at": datetime.datetime(2026, 1, 2, 3, 4, 5),
        "id": uuid.UUID(int=7),
        "amount": decimal.Decimal("9.99"),
    }
    bus = EventBus(backend="celery")
    bus.subscribe("order.paid", record_receipt)
    bus.emit("order.paid", payload)
    assert received == [("receipt", payload)]


def test_unimportable_handler_is_reported_and_the_others_still_sent(eager_app) -> None:
    bus = EventBus(backend="celery")
    bus.subscribe("evt", lambda p: None)
    bus.subscribe("evt", record_receipt)
    with pytest.raises(EventDispatchError) as info:
        bus.emit("evt", {"x": 1})
    assert [type(e) for e in info.value.exceptions] == [ValidationError]
    assert received == [("receipt", {"x": 1})]


def test_aemit_sends_tasks(eager_app) -> None:
    from asgiref.sync import async_to_sync

    bus = EventBus(backend="celery")
    bus.subscribe("evt", record_receipt)
    async_to_sync(bus.aemit)("evt", {"a": 1})
    assert received == [("receipt", {"a": 1})]


def _run_through_worker(broker_url: str, queue: str) -> None:
    from celery.contrib.testing.worker import start_worker

    app = Celery(f"toolkit-core-{queue}", set_as_current=True)
    app.conf.update(
        broker_url=broker_url,
        result_backend=None,
        task_default_queue=queue,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    app.set_current()
    bus = EventBus(backend="celery")
    bus.subscribe("order.paid", explode)  # a failing task does not stop the next one
    bus.subscribe("order.paid", record_receipt)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
            bus.emit("order.paid", {"id": 42})
            assert arrived.wait(30), "the worker did not run the handler"
    finally:
        app.close()
    assert received == [("receipt", {"id": 42})]


@pytest.mark.slow
@pytest.mark.redis
def test_redis_broker_and_worker_run_the_handler() -> None:
    services.require_redis()
    queue = f"toolkit-core-tests-{uuid.uuid4().hex[:8]}"
    try:
        _run_through_worker(REDIS_BROKER, queue)
    finally:
        _forget_queue(queue)


@pytest.mark.slow
@pytest.mark.rabbitmq
def test_rabbitmq_broker_and_worker_run_the_handler(rabbitmq_url: str) -> None:
    queue = f"toolkit-core-tests-{uuid.uuid4().hex[:8]}"
    try:
        _run_through_worker(rabbitmq_url, queue)
    finally:
        from kombu import Connection

        with Connection(rabbitmq_url) as conn:
            channel = conn.channel()
            channel.queue_delete(queue)
            channel.exchange_delete(queue)


def _forget_queue(queue: str) -> None:
    """Delete the keys kombu left for this run's queue (our own Redis db, 11)."""
    import redis

    client = redis.Redis.from_url(REDIS_BROKER)
    try:
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
    finally:
        client.close()


@pytest.fixture
def eager_retrying_app():
    """Eager, but not propagating: Celery's eager ``apply`` then runs the retries in place."""
    app = Celery("toolkit-core-eager-retry", set_as_current=True)
    app.conf.update(task_always_eager=True, task_eager_propagates=False, broker_url="memory://")
    app.set_current()
    yield app
    app.close()


def test_a_failing_handler_is_retried_and_its_writes_kept_only_from_the_run_that_succeeded(
    eager_retrying_app,
) -> None:
    from django.contrib.auth.models import Group

    from toolkit.models import HandledEvent

    bus = EventBus(backend="celery")
    bus.subscribe("order.paid", flaky)
    bus.emit("order.paid", {"event_id": "e-1"})
    assert len(flaky_calls) == 3  # two failures, retried by Celery, then success
    # The failed runs rolled back with their key; the third committed both.
    assert list(Group.objects.values_list("name", flat=True)) == ["flaky-3"]
    assert list(HandledEvent.objects.values_list("key", flat=True)) == [
        f"e-1:{handler_path(flaky)}"
    ]


def test_the_same_idempotency_key_runs_a_handler_once(eager_app) -> None:
    from toolkit.models import HandledEvent

    path = handler_path(record_receipt)
    run_event_handler.apply(args=(path, "order.paid", {"id": 1}, "k-1"))
    run_event_handler.apply(args=(path, "order.paid", {"id": 1}, "k-1"))  # redelivered
    assert received == [("receipt", {"id": 1})]
    bus = EventBus(backend="celery")
    bus.subscribe("order.paid", record_receipt)
    bus.emit("order.paid", {"event_id": "e-7"})
    bus.emit("order.paid", {"event_id": "e-7"})  # the same event published twice
    bus.emit("order.paid", {"id": 2})
    bus.emit("order.paid", {"id": 2})  # no event id: two emissions, two runs
    assert received == [
        ("receipt", {"id": 1}),
        ("receipt", {"event_id": "e-7"}),
        ("receipt", {"id": 2}),
        ("receipt", {"id": 2}),
    ]
    assert HandledEvent.objects.count() == 4


def test_idempotency_key_prefers_the_event_id() -> None:
    from toolkit.contrib.celery import idempotency_key

    path = handler_path(record_receipt)
    assert idempotency_key({"event_id": "e-1"}, record_receipt, emission="x") == f"e-1:{path}"
    assert idempotency_key([1, 2], record_receipt, emission="x") == f"x:{path}"
