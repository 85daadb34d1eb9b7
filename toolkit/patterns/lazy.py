"""Lazy loader: a descriptor that builds a resource on first access and keeps it.

::

    class MyService:
        client = lazy(lambda: ExpensiveAPIClient())            # once per instance
        config = lazy(lambda: load_remote_config(), ttl=60.0)  # rebuilt after 60 s
        session = lazy(lambda self: Session(self.base_url))    # factory may take the instance

    svc = MyService()
    svc.client                   # factory called here
    svc.client                   # cached, factory not called
    MyService.client.reset(svc)  # forget it; the next read calls the factory again

Thread-safe: under concurrent first reads the factory runs at most once per instance.

Why reads are as fast as ``functools.cached_property``: ``lazy`` is a non-data descriptor
(only ``__get__``). Without a ttl the value is stored in the instance ``__dict__`` under the
attribute's own name, so every read after the first is a plain attribute lookup that never
calls the descriptor. With a ttl the value lives under a private key with its deadline and
reads take no lock: only a (re)build does.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

__all__ = ["lazy"]

T = TypeVar("T")

_lock_creation = threading.Lock()


class lazy(Generic[T]):
    """Descriptor calling ``factory`` on first access and caching the result per instance.

    ``factory`` takes no argument, or one (the instance). ``ttl`` (seconds) re-runs it once
    the value is older than that. An exception from the factory propagates and nothing is
    cached, so the next read tries again.
    """

    def __init__(
        self,
        factory: Callable[[], T] | Callable[[Any], T],
        ttl: float | None = None,
    ) -> None:
        if not callable(factory):
            raise TypeError(f"lazy() needs a callable factory, not {factory!r}")
        if ttl is not None and (isinstance(ttl, bool) or not ttl > 0):
            raise ValueError(f"lazy() ttl must be a positive number of seconds, not {ttl!r}")
        self.factory = factory
        self.ttl = ttl
        self._takes_instance = _takes_instance(factory)
        self.name = ""
        self.__doc__ = getattr(factory, "__doc__", None)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self._slot = f"_lazy_{name}"  # the ttl entry: (value, deadline)
        self._lock_key = f"_lazy_lock_{name}"

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> lazy[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | lazy[T]:
        if instance is None:
            return self
        namespace = self._namespace(instance)
        if self.ttl is not None:
            entry = namespace.get(self._slot)
            if entry is not None and time.monotonic() < entry[1]:
                return entry[0]  # type: ignore[no-any-return]
        with self._instance_lock(namespace):
            if self.ttl is None:
                # Another thread may have built it while we waited for the lock.
                if self.name in namespace:
                    return namespace[self.name]  # type: ignore[no-any-return]
                value = self._build(instance)
                namespace[self.name] = value
                return value
            entry = namespace.get(self._slot)
            now = time.monotonic()
            if entry is not None and now < entry[1]:
                return entry[0]  # type: ignore[no-any-return]
            value = self._build(instance)
            namespace[self._slot] = (value, time.monotonic() + self.ttl)
            return value

    def reset(self, instance: object) -> None:
        """Forget the value cached on ``instance``; the next read calls the factory again."""
        namespace = self._namespace(instance)
        with self._instance_lock(namespace):
            namespace.pop(self._slot if self.ttl is not None else self.name, None)

    def is_loaded(self, instance: object) -> bool:
        """True when ``instance`` holds a value that a read would return without the factory."""
        namespace = self._namespace(instance)
        if self.ttl is None:
            return self.name in namespace
        entry = namespace.get(self._slot)
        return entry is not None and time.monotonic() < entry[1]

    def _build(self, instance: object) -> T:
        if self._takes_instance:
            return self.factory(instance)  # type: ignore[call-arg]
        return self.factory()  # type: ignore[call-arg]

    def _namespace(self, instance: object) -> dict[str, Any]:
        if not self.name:
            raise TypeError(
                "lazy() must be assigned in a class body (it needs __set_name__ to know its name)"
            )
        try:
            return instance.__dict__
        except AttributeError:
            raise TypeError(
                f"lazy attribute {self.name!r} needs an instance __dict__; "
                f"{type(instance).__name__} uses __slots__ without '__dict__'"
            ) from None

    def _instance_lock(self, namespace: dict[str, Any]) -> threading.RLock:
        lock = namespace.get(self._lock_key)
        if lock is None:
            with _lock_creation:
                lock = namespace.setdefault(self._lock_key, threading.RLock())
        return lock  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        ttl = f", ttl={self.ttl!r}" if self.ttl is not None else ""
        return f"lazy({getattr(self.factory, '__qualname__', self.factory)!s}{ttl})"


def _takes_instance(factory: Callable[..., Any]) -> bool:
    """Whether ``factory`` expects the instance (exactly one required positional parameter)."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    required = [
        p
        for p in parameters
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return len(required) == 1
