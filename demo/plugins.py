"""The demo's two plugins, found through the ``toolkit_demo.plugins`` entry-point group.

- :class:`LoyaltyPointsPlugin` awards one point per whole unit of currency when an order is
  paid (the bus handler ``demo.shop.screening.award_points`` on ``order.pay``).
- :class:`FraudScreeningPlugin` holds payments of risky orders: while it is active, the
  ``pay`` transition's guard asks ``demo.shop.screening.fraud_verdict``.

Enable or disable them on the panel's plugin page; the state is persisted and every process
honours it.
"""

from __future__ import annotations

from demo.shop import screening
from toolkit.patterns.plugin import Plugin


class LoyaltyPointsPlugin(Plugin):
    """Awards loyalty points for paid orders."""

    name = screening.LOYALTY
    version = "1.2.0"

    def activate(self) -> None:
        screening.set_active(self.name, True)

    def deactivate(self) -> None:
        screening.set_active(self.name, False)


class FraudScreeningPlugin(Plugin):
    """Holds the payment of large orders from untrusted mail domains."""

    name = screening.FRAUD_SCREENING
    version = "0.9.1"

    def activate(self) -> None:
        screening.set_active(self.name, True)

    def deactivate(self) -> None:
        screening.set_active(self.name, False)
