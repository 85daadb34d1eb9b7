"""The book's ``test_handlers.py``: the message bus with a fake unit of work, no database."""

from __future__ import annotations

from datetime import date

import pytest

from demo.allocation import bootstrap, commands, events, handlers
from demo.allocation.fakes import FakeNotifications, FakeUnitOfWork
from demo.allocation.messagebus import MessageBus


def bootstrap_test_app() -> MessageBus:
    return bootstrap.bootstrap(
        start_orm=False,
        uow=FakeUnitOfWork(),
        notifications=FakeNotifications(),
        publish=lambda *args: None,
    )


class TestAddBatch:
    def test_for_new_product(self) -> None:
        bus = bootstrap_test_app()
        bus.handle(commands.CreateBatch("b1", "CRUNCHY-ARMCHAIR", 100, None))
        assert bus.uow.products.get("CRUNCHY-ARMCHAIR") is not None
        assert bus.uow.committed  # type: ignore[attr-defined]

    def test_for_existing_product(self) -> None:
        bus = bootstrap_test_app()
        bus.handle(commands.CreateBatch("b1", "GARISH-RUG", 100, None))
        bus.handle(commands.CreateBatch("b2", "GARISH-RUG", 99, None))
        product = bus.uow.products.get("GARISH-RUG")
        assert product is not None
        assert "b2" in [b.reference for b in product.batches]


class TestAllocate:
    def test_allocates(self) -> None:
        bus = bootstrap_test_app()
        bus.handle(commands.CreateBatch("batch1", "COMPLICATED-LAMP", 100, None))
        bus.handle(commands.Allocate("o1", "COMPLICATED-LAMP", 10))
        product = bus.uow.products.get("COMPLICATED-LAMP")
        assert product is not None
        [batch] = product.batches
        assert batch.available_quantity == 90

    def test_errors_for_invalid_sku(self) -> None:
        bus = bootstrap_test_app()
        bus.handle(commands.CreateBatch("b1", "AREALSKU", 100, None))

        with pytest.raises(handlers.InvalidSku, match="Invalid sku NONEXISTENTSKU"):
            bus.handle(commands.Allocate("o1", "NONEXISTENTSKU", 10))

    def test_invalid_sku_message_is_the_books_unquoted(self) -> None:
        bus = bootstrap_test_app()
        with pytest.raises(handlers.InvalidSku) as excinfo:
            bus.handle(commands.Allocate("o1", "NOPE", 1))
        assert excinfo.value.args == ("Invalid sku NOPE",)
        assert bus.uow.committed is False  # type: ignore[attr-defined]

    def test_commits(self) -> None:
        bus = bootstrap_test_app()
        bus.handle(commands.CreateBatch("b1", "OMINOUS-MIRROR", 100, None))
        bus.handle(commands.Allocate("o1", "OMINOUS-MIRROR", 10))
        assert bus.uow.committed  # type: ignore[attr-defined]

    def test_sends_email_on_out_of_stock_error(self) -> None:
        fake_notifs = FakeNotifications()
        bus = bootstrap.bootstrap(
            start_orm=False,
            uow=FakeUnitOfWork(),
            notifications=fake_notifs,
            publish=lambda *args: None,
        )
        bus.handle(commands.CreateBatch("b1", "POPULAR-CURTAINS", 9, None))
        bus.handle(commands.Allocate("o1", "POPULAR-CURTAINS", 10))
        assert fake_notifs.sent["stock@made.com"] == [
            "Out of stock for POPULAR-CURTAINS",
        ]

    def test_out_of_stock_is_handled_not_raised(self) -> None:
        # The book's later chapters: allocate records OutOfStock and returns.
        bus = bootstrap_test_app()
        bus.handle(commands.CreateBatch("b1", "LAMP", 1, None))
        bus.handle(commands.Allocate("o1", "LAMP", 5))
        product = bus.uow.products.get("LAMP")
        assert product is not None
        assert product.batches[0].available_quantity == 1
        assert product.events == []  # collected by the bus and handled

    def test_publishes_allocated_events(self) -> None:
        published: list[tuple[str, events.Event]] = []
        bus = bootstrap.bootstrap(
            start_orm=False,
            uow=FakeUnitOfWork(),
            notifications=FakeNotifications(),
            publish=lambda channel, event: published.append((channel, event)),
        )
        bus.handle(commands.CreateBatch("b1", "LAMP", 10, None))
        bus.handle(commands.Allocate("o1", "LAMP", 2))
        assert published == [("line_allocated", events.Allocated("o1", "LAMP", 2, "b1"))]


class TestChangeBatchQuantity:
    def test_changes_available_quantity(self) -> None:
        bus = bootstrap_test_app()
        bus.handle(commands.CreateBatch("batch1", "ADORABLE-SETTEE", 100, None))
        product = bus.uow.products.get(sku="ADORABLE-SETTEE")
        assert product is not None
        [batch] = product.batches
        assert batch.available_quantity == 100

        bus.handle(commands.ChangeBatchQuantity("batch1", 50))

        assert batch.available_quantity == 50

    def test_reallocates_if_necessary(self) -> None:
        bus = bootstrap_test_app()
        history = [
            commands.CreateBatch("batch1", "INDIFFERENT-TABLE", 50, None),
            commands.CreateBatch("batch2", "INDIFFERENT-TABLE", 50, date.today()),
            commands.Allocate("order1", "INDIFFERENT-TABLE", 20),
            commands.Allocate("order2", "INDIFFERENT-TABLE", 20),
        ]
        for msg in history:
            bus.handle(msg)
        product = bus.uow.products.get(sku="INDIFFERENT-TABLE")
        assert product is not None
        [batch1, batch2] = product.batches
        assert batch1.available_quantity == 10
        assert batch2.available_quantity == 50

        bus.handle(commands.ChangeBatchQuantity("batch1", 25))

        # order1 or order2 will be deallocated, so we'll have 25 - 20
        assert batch1.available_quantity == 5
        # and 20 will be reallocated to the next batch
        assert batch2.available_quantity == 30

    def test_unknown_batch_is_an_error_naming_it(self) -> None:
        from demo.allocation.exceptions import UnknownBatch

        bus = bootstrap_test_app()
        with pytest.raises(UnknownBatch) as excinfo:
            bus.handle(commands.ChangeBatchQuantity("nope", 1))
        assert str(excinfo.value) == "No batch 'nope'"


class TestMessageBus:
    def test_a_failing_event_handler_is_logged_and_the_others_run(self, caplog) -> None:
        ran: list[str] = []

        def boom(event: events.Event) -> None:
            raise RuntimeError("mailer down")

        bus = MessageBus(
            uow=FakeUnitOfWork(),
            event_handlers={events.OutOfStock: [boom, lambda e: ran.append(e.sku)]},
            command_handlers={},
        )
        bus.handle(events.OutOfStock("LAMP"))
        assert ran == ["LAMP"]
        (record,) = [r for r in caplog.records if r.levelname == "ERROR"]
        assert record.getMessage().startswith("Exception handling event OutOfStock(sku='LAMP')")
        assert record.exc_info is not None and str(record.exc_info[1]) == "mailer down"

    def test_a_message_that_is_neither_is_refused(self) -> None:
        bus = bootstrap_test_app()
        with pytest.raises(TypeError, match="was not an Event or Command"):
            bus.handle("allocate!")  # type: ignore[arg-type]

    def test_dependencies_are_injected_by_parameter_name(self) -> None:
        seen: dict[str, object] = {}

        def handler(cmd: object, uow: object, publish: object) -> None:
            seen.update(uow=uow, publish=publish)

        injected = bootstrap.inject_dependencies(
            handler, {"uow": "U", "notifications": "N", "publish": "P"}
        )
        injected(commands.Allocate("o", "s", 1))
        assert seen == {"uow": "U", "publish": "P"}
