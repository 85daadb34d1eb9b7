"""The allocate use case as a Story, with the default hooks and Prometheus metrics.

``/metrics`` shows ``dddkit_stories_executions_latency_ms{service="allocation",
story_name="AllocateLine",...}`` and the per-step histogram once something was allocated.
"""

from __future__ import annotations

from dataclasses import dataclass

from demo.allocation import logic
from demo.allocation.exceptions import InvalidSku
from demo.allocation.handlers import changes
from demo.allocation.repository import ProductRepository
from toolkit.patterns.exceptions import NotFound
from toolkit.stories import I, State, Story, default_hooks, inject_hooks
from toolkit.stories.prometheus import PrometheusMetricsHook


class AllocateState(State):
    """Input ``line``; the story fills ``product`` and ``batchref`` (None when out of stock)."""

    line: logic.OrderLine
    product: logic.Product | None = None
    batchref: str | None = None


@dataclass(frozen=True, slots=True)
class AllocateLine(Story):
    """Load the product of the line's SKU, allocate the line, save the product."""

    I.find_product  # noqa: B018
    I.allocate_line  # noqa: B018
    I.save_product  # noqa: B018

    State = AllocateState

    repository: ProductRepository

    def find_product(self, state: AllocateState) -> None:
        try:
            state.product = self.repository.get(state.line.sku)
        except NotFound:
            raise InvalidSku(state.line.sku) from None

    def allocate_line(self, state: AllocateState) -> None:
        assert state.product is not None
        state.batchref = state.product.allocate(state.line)

    def save_product(self, state: AllocateState) -> None:
        assert state.product is not None
        self.repository.save(state.product)


def build_allocate_line() -> AllocateLine:
    """An ``AllocateLine`` with a fresh repository that hands events to the broker."""
    return AllocateLine(repository=ProductRepository(changes_handler=changes))


inject_hooks(AllocateLine, hooks=[*default_hooks(), PrometheusMetricsHook(app_name="allocation")])
