"""The changes handler: turn an aggregate's events into changes; persist and dispatch them.

It serves two ways of saving an aggregate.

dddkit's way: a subclass with a ``result_type`` (a ``NamedTuple``), ``_clear_state()`` and a
``functools.singledispatchmethod`` ``handle_changes(event, aggregate)``; calling the handler
on an aggregate hands each pending event to ``handle_changes``, clears the events, and
returns a ``result_type`` built from the attributes of the same names. Used as a context
manager, the state is cleared on entry and exit. The repository then writes the result::

    class Result(NamedTuple):
        created_fields: dict[str, Any] = {}
        deleted_id: list[BasketId] = []

    class BasketChangesHandler(ChangesHandler[Basket, Result]):
        result_type = Result

        def _clear_state(self) -> None:
            self.created_fields, self.deleted_id = {}, []

        @singledispatchmethod
        def handle_changes(self, event, basket): raise NotImplementedError(repr(event))

        @handle_changes.register
        def _(self, _: Basket.Created, basket: Basket) -> None:
            self.created_fields["id"] = basket.basket_id

    with BasketChangesHandler() as hc:
        result = hc(basket)

The toolkit's way:

``ChangesHandler.save(aggregate, repository)`` is what :meth:`Repository.save` calls:

1. ``repository.persist(aggregate)`` writes the state (an error leaves the events pending);
2. the aggregate's pending events are collected (each event is handed over once);
3. for an event-sourced aggregate (a :class:`toolkit.eventsourcing.Aggregate`, or any
   aggregate with ``aggregate_id`` and ``persisted_sequence``, see :class:`EventSourced`), the
   events are appended to the event store in one batch with the expected sequence (the stream
   head the aggregate was loaded at), in the same transaction: a concurrent writer gets
   ``ConcurrencyConflict`` and nothing is written;
4. the events are dispatched to the :class:`~toolkit.ddd.broker.EventBroker` when the
   transaction commits: inside a :class:`toolkit.patterns.UnitOfWork` (or any ``atomic``
   block) that is after the outermost commit, and a rollback drops them, savepoints included
   (Django's ``transaction.on_commit``). Outside any transaction they are dispatched at once.

Example::

    changes = ChangesHandler(broker)
    products = ProductRepository(changes_handler=changes)
    with UnitOfWork():
        product = products.get("LAMP")
        product.allocate(line)
        products.save(product)        # persisted now; Allocated dispatched after commit
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import singledispatchmethod
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar, runtime_checkable

from toolkit.core.exceptions import ValidationError

if TYPE_CHECKING:
    from toolkit.ddd.broker import EventBroker
    from toolkit.ddd.repository import Repository

__all__ = ["ChangesHandler", "EventSourced", "EventStoreLike"]


@runtime_checkable
class EventSourced(Protocol):
    """An aggregate whose events are its state: it has a stream id and a stream position.

    ``aggregate_id`` names the stream; ``persisted_sequence`` is the head of the stream when
    the aggregate was loaded (0 for a new one); it is the expected sequence of the append.
    """

    aggregate_id: Any
    persisted_sequence: int


class EventStoreLike(Protocol):
    """What the changes handler needs from an event store (``toolkit.patterns.EventStore``)."""

    def append_batch(
        self,
        aggregate_id: str,
        aggregate_type: str,
        events: Iterable[tuple[str, Mapping[str, Any]]],
        expected_seq: int | None = None,
    ) -> Any:
        """Append all events or none; raise ``ConcurrencyConflict`` unless the head is
        ``expected_seq``."""


def _is_toolkit_es_aggregate(aggregate: Any) -> bool:
    from toolkit.eventsourcing.aggregate import Aggregate

    return isinstance(aggregate, Aggregate)


def _default_serializer(event: Any) -> dict[str, Any]:
    import dataclasses

    if hasattr(event, "model_dump"):
        data: dict[str, Any] = event.model_dump(mode="json")
    elif dataclasses.is_dataclass(event) and not isinstance(event, type):
        import json

        from django.core.serializers.json import DjangoJSONEncoder

        data = json.loads(json.dumps(dataclasses.asdict(event), cls=DjangoJSONEncoder))
    else:
        raise ValidationError(
            f"Cannot serialise event {event!r}: use a dataclass or pydantic event, or pass "
            f"serializer= to ChangesHandler",
            value=event,
        )
    return data


AggregateT = TypeVar("AggregateT")
ResultT = TypeVar("ResultT", bound=NamedTuple)


class ChangesHandler(Generic[AggregateT, ResultT]):
    """Turn an aggregate's events into a result (dddkit), or persist aggregates and publish
    their events once the transaction commits (the toolkit's :meth:`save`).

    ``broker`` receives the events (``None``: only persist and append). ``event_store``
    (optional) receives the events of event-sourced aggregates; ``serializer`` turns one event
    into its JSON payload (default: dataclass / pydantic fields). ``using`` is the database
    alias of the transaction to wait for. A dddkit-style subclass sets :attr:`result_type`
    and overrides :meth:`_clear_state` and :meth:`handle_changes`.
    """

    #: The ``NamedTuple`` that :meth:`__call__` returns (dddkit); set it on a subclass.
    result_type: Any = None

    def __init__(
        self,
        broker: EventBroker | None = None,
        *,
        event_store: EventStoreLike | None = None,
        serializer: Callable[[Any], dict[str, Any]] | None = None,
        using: str | None = None,
    ) -> None:
        self.broker = broker
        self.event_store = event_store
        self.serializer = serializer or _default_serializer
        self.using = using
        self._clear_state()

    # -- dddkit: events -> result ----------------------------------------------------------

    def _clear_state(self) -> None:
        """Reset the attributes the result is built from (override; default: nothing)."""

    @singledispatchmethod
    def handle_changes(self, event: Any, aggregate: AggregateT) -> None:
        """Record what ``event`` changes; register one implementation per event class."""
        raise NotImplementedError(
            f"{type(self).__name__} has no handle_changes for {type(event).__qualname__}: "
            f"register one with @handle_changes.register"
        )

    def __call__(self, aggregate: AggregateT) -> ResultT:
        """Hand every pending event of ``aggregate`` to :meth:`handle_changes`, clear them,
        and return :attr:`result_type` built from the attributes of the same names."""
        result_type = self.result_type
        if result_type is None or not hasattr(result_type, "_fields"):
            raise TypeError(
                f"{type(self).__name__}.result_type must be a NamedTuple class, not {result_type!r}"
            )
        for event in aggregate.get_events():  # type: ignore[attr-defined]
            self.handle_changes(event, aggregate)
        aggregate.clear_events()  # type: ignore[attr-defined]
        result: ResultT = result_type(*(getattr(self, k, None) for k in result_type._fields))
        return result

    def __enter__(self) -> ChangesHandler[AggregateT, ResultT]:
        self._clear_state()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self._clear_state()

    # -- the toolkit: persist, append, dispatch after commit -------------------------------

    def save(self, aggregate: Any, repository: Repository[Any, Any] | None = None) -> list[Any]:
        """Persist ``aggregate`` (through ``repository`` when given), append its events when
        it is event-sourced, schedule their dispatch after commit; return the events."""
        if repository is not None:
            repository.persist(aggregate)
        if _is_toolkit_es_aggregate(aggregate):
            # toolkit.eventsourcing.Aggregate: saved as its repository saves it (one batch at
            # the persisted version, snapshots every ``snapshot_every``).
            from toolkit.eventsourcing.aggregate import append_pending

            events: list[Any] = list(aggregate.pending_events)
            if events and self.event_store is not None:
                append_pending(self.event_store, aggregate)
            else:
                aggregate.collect_events()
        else:
            events = aggregate.collect_events()
            if events and self.event_store is not None and isinstance(aggregate, EventSourced):
                self.append_to_store(aggregate, events)
        if events and self.broker is not None:
            self.on_commit(lambda: self.publish(events))
        return events

    def append_to_store(self, aggregate: EventSourced, events: Sequence[Any]) -> None:
        """Append ``events`` to the event store, expecting the head the aggregate was read at."""
        assert self.event_store is not None
        expected = aggregate.persisted_sequence
        self.event_store.append_batch(
            str(aggregate.aggregate_id),
            type(aggregate).__name__,
            [(type(event).__name__, self.serializer(event)) for event in events],
            expected,
        )
        aggregate.persisted_sequence = expected + len(events)

    def publish(self, events: Sequence[Any]) -> None:
        """Dispatch ``events`` in order to the broker (every event, even if one fails).

        An event no handler accepts is skipped: an aggregate records facts whether or not
        anyone listens (the broker itself raises NotImplementedError for them, as dddkit).
        """
        from toolkit.core.exceptions import EventDispatchError

        assert self.broker is not None
        errors: list[tuple[str, BaseException]] = []
        names: list[str] = []
        for event in events:
            if not self.broker.handlers_for(event):
                continue
            try:
                self.broker.dispatch(event)
            except EventDispatchError as exc:
                names.append(exc.event)
                errors.extend(exc.failures)
        if errors:
            raise EventDispatchError(", ".join(names), errors)

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after the current transaction commits (now if there is none)."""
        from toolkit.conf import settings_ready

        if not settings_ready():  # no Django project around: there is no transaction to wait for
            callback()
            return
        from django.db import transaction

        transaction.on_commit(callback, using=self.using)
