"""Strategy: interchangeable algorithms picked by name at runtime.

Each family (a direct subclass such as ``PricingStrategy``) keeps its own registry, so
``PricingStrategy.resolve("premium")`` never sees a ``PaymentStrategy``::

    class PricingStrategy(Strategy):
        @abstractmethod
        def execute(self, order) -> float: ...

    @PricingStrategy.register("premium")
    class PremiumPricing(PricingStrategy):
        def execute(self, order) -> float:
            return order.subtotal * 0.9

    PricingStrategy.resolve("premium")   # -> PremiumPricing
    PricingStrategy.available()          # -> ["premium"]
    PricingStrategy.resolve("fast")      # StrategyNotFound: 'fast' is not a PricingStrategy; ...
"""

from __future__ import annotations

import threading
from abc import ABC
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from toolkit.core.exceptions import StrategyNotFound

__all__ = ["Strategy"]

S = TypeVar("S", bound="Strategy")
C = TypeVar("C", bound=type)

_lock = threading.Lock()


class Strategy(ABC):
    """Base of strategy families; ``register`` / ``resolve`` / ``available`` work per family.

    The registry belongs to the class ``register`` is called on (its "family"), so
    subclass the base once per kind of algorithm and register the concrete classes on it.
    """

    #: The name this class was registered under (set by ``register``).
    strategy_name: ClassVar[str | None] = None
    _strategies: ClassVar[dict[str, type[Strategy]]]

    @classmethod
    def _registry(cls) -> dict[str, type[Strategy]]:
        # Each family owns its dict; looking in ``cls.__dict__`` avoids inheriting the parent's.
        registry = cls.__dict__.get("_strategies")
        if registry is None:
            with _lock:
                registry = cls.__dict__.get("_strategies")
                if registry is None:
                    registry = {}
                    cls._strategies = registry
        return registry

    @classmethod
    def register(cls, name: str) -> Callable[[C], C]:
        """Class decorator registering a concrete strategy of this family under ``name``.

        Registering a different class under a taken name raises ``ValueError``; a class with
        the same qualified name (a reloaded module) replaces the old one.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"A strategy name must be a non-empty string, not {name!r}")

        def decorator(strategy_cls: C) -> C:
            if not (isinstance(strategy_cls, type) and issubclass(strategy_cls, cls)):
                raise TypeError(
                    f"{strategy_cls!r} cannot be registered as {name!r}: "
                    f"it is not a subclass of {cls.__name__}"
                )
            registry = cls._registry()
            with _lock:
                current = registry.get(name)
                if current is not None and _qualified(current) != _qualified(strategy_cls):
                    raise ValueError(
                        f"{name!r} is already registered on {cls.__name__} by {_qualified(current)}"
                    )
                registry[name] = strategy_cls
            strategy_cls.strategy_name = name
            return strategy_cls

        return decorator

    @classmethod
    def resolve(cls: type[S], name: str) -> type[S]:
        """Return the class registered under ``name`` or raise ``StrategyNotFound``."""
        registry = cls._registry()
        try:
            return registry[name]  # type: ignore[return-value]
        except (KeyError, TypeError):
            raise StrategyNotFound(name, cls.__name__, list(registry)) from None

    @classmethod
    def create(cls: type[S], name: str, *args: Any, **kwargs: Any) -> S:
        """Resolve ``name`` and instantiate it with the given arguments."""
        return cls.resolve(name)(*args, **kwargs)

    @classmethod
    def available(cls) -> list[str]:
        """The registered names of this family, sorted."""
        return sorted(cls._registry())

    @classmethod
    def unregister(cls, name: str) -> None:
        """Remove ``name`` from this family, raising ``StrategyNotFound`` when unknown."""
        registry = cls._registry()
        with _lock:
            if name not in registry:
                raise StrategyNotFound(name, cls.__name__, list(registry))
            del registry[name]


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
