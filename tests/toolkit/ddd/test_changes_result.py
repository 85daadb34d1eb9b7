"""ChangesHandler[T, Result] as dddkit 0.5 publishes it: events -> a NamedTuple result.

Pure core: pytest functions, no database (the persist/dispatch side is in test_changes.py).
"""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any, NamedTuple

import pytest

from toolkit.ddd import Aggregate, AggregateEvent, ChangesHandler, DomainEvent
from toolkit.ddd import pydantic as pyd


class Basket(Aggregate):
    basket_id: int

    class Created(AggregateEvent):
        pass

    class Renamed(AggregateEvent):
        basket_id: int

    class Deleted(AggregateEvent):
        pass


class BasketChanged(DomainEvent):
    basket_id: int


class Result(NamedTuple):
    created_fields: dict[str, Any] = {}
    updated_fields: dict[str, Any] = {}
    deleted_id: list[int] = []
    domain_events: list[DomainEvent] = []


class BasketChangesHandler(ChangesHandler[Basket, Result]):
    result_type = Result

    def _clear_state(self) -> None:
        self.created_fields: dict[str, Any] = {}
        self.updated_fields: dict[str, Any] = {}
        self.deleted_id: list[int] = []
        self.domain_events: list[DomainEvent] = []

    @singledispatchmethod
    def handle_changes(self, event: AggregateEvent, basket: Basket) -> None:
        raise NotImplementedError(f"Has no handler for event {event!r}")

    @handle_changes.register
    def _(self, _: Basket.Created, basket: Basket) -> None:
        self.created_fields["id"] = basket.basket_id

    @handle_changes.register
    def _(self, event: Basket.Renamed, _: Basket) -> None:
        self.updated_fields["id"] = event.basket_id
        self.domain_events.append(BasketChanged(basket_id=event.basket_id))

    @handle_changes.register
    def _(self, _: Basket.Deleted, basket: Basket) -> None:
        self.deleted_id.append(basket.basket_id)


def make_basket(*events: AggregateEvent) -> Basket:
    basket = Basket(basket_id=1)
    for event in events:
        basket.add_event(event)
    return basket


def test_calling_the_handler_routes_each_event_and_builds_the_result() -> None:
    basket = make_basket(Basket.Created(), Basket.Renamed(basket_id=2), Basket.Deleted())
    with BasketChangesHandler() as hc:
        result = hc(basket)
    assert isinstance(result, Result)
    assert result.created_fields == {"id": 1}
    assert result.updated_fields == {"id": 2}
    assert result.deleted_id == [1]
    assert result.domain_events == [BasketChanged(basket_id=2)]
    assert basket.get_events() == []  # the events were consumed


def test_the_context_manager_clears_the_state_on_entry_and_exit() -> None:
    handler = BasketChangesHandler()
    handler.created_fields = {"id": 99}
    with handler as hc:
        assert hc is handler
        assert hc.created_fields == {}
        result = hc(make_basket(Basket.Created()))
        assert handler.created_fields == {"id": 1}
    assert result.created_fields == {"id": 1}  # the result keeps its values
    assert handler.created_fields == {}


def test_an_event_without_a_registered_handler_raises_the_subclass_error() -> None:
    class Other(AggregateEvent):
        pass

    with pytest.raises(NotImplementedError, match="Has no handler for event"):
        BasketChangesHandler()(make_basket(Other()))


def test_the_base_handle_changes_names_the_missing_registration() -> None:
    class NoRoutes(ChangesHandler[Basket, Result]):
        result_type = Result

    with pytest.raises(NotImplementedError) as excinfo:
        NoRoutes()(make_basket(Basket.Created()))
    assert excinfo.value.args == (
        "NoRoutes has no handle_changes for Basket.Created: register one with "
        "@handle_changes.register",
    )


def test_calling_without_a_result_type_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError) as excinfo:
        ChangesHandler()(make_basket())
    assert excinfo.value.args == (
        "ChangesHandler.result_type must be a NamedTuple class, not None",
    )


class Cart(pyd.Aggregate):
    cart_id: int

    class Created(pyd.AggregateEvent):
        pass


class CartResult(NamedTuple):
    created: list[int] = []


class CartChanges(ChangesHandler[Cart, CartResult]):
    result_type = CartResult

    def _clear_state(self) -> None:
        self.created: list[int] = []

    @singledispatchmethod
    def handle_changes(self, event: Any, cart: Cart) -> None:
        raise NotImplementedError

    @handle_changes.register
    def _(self, _: Cart.Created, cart: Cart) -> None:
        self.created.append(cart.cart_id)


def test_the_pydantic_flavour_shares_the_handler() -> None:
    assert pyd.ChangesHandler is ChangesHandler
    cart = Cart(cart_id=7)
    cart.add_event(Cart.Created())
    with CartChanges() as hc:
        assert hc(cart) == CartResult(created=[7])
