"""The allocate use case as a Story, with the default hooks and Prometheus metrics.

The book's ``allocate`` handler runs it inside its unit of work, so ``/metrics`` shows
``dddkit_stories_executions_latency_ms{service="allocation",story_name="AllocateLine",...}``
and the per-step histogram once something was allocated.
"""

from __future__ import annotations

from dataclasses import dataclass

from demo.allocation import model
from demo.allocation.exceptions import InvalidSku
from demo.allocation.unit_of_work import AbstractUnitOfWork
from toolkit.stories import I, State, Story, default_hooks, inject_hooks
from toolkit.stories.prometheus import PrometheusMetricsHook


class AllocateState(State):
    """Input ``line``; the story fills ``product`` and ``batchref`` (None when out of stock)."""

    line: model.OrderLine
    product: model.Product | None = None
    batchref: str | None = None


@dataclass(frozen=True, slots=True)
class AllocateLine(Story):
    """Find the product of the line's SKU, allocate the line, commit the unit of work."""

    I.find_product  # noqa: B018
    I.allocate_line  # noqa: B018
    I.commit  # noqa: B018

    State = AllocateState

    uow: AbstractUnitOfWork

    def find_product(self, state: AllocateState) -> None:
        state.product = self.uow.products.get(sku=state.line.sku)
        if state.product is None:
            raise InvalidSku(state.line.sku)

    def allocate_line(self, state: AllocateState) -> None:
        assert state.product is not None
        state.batchref = state.product.allocate(state.line)

    def commit(self, state: AllocateState) -> None:
        self.uow.commit()


inject_hooks(AllocateLine, hooks=[*default_hooks(), PrometheusMetricsHook(app_name="allocation")])
