"""Cache backends that count the calls reaching them (one call = one round trip)."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.memcached import PyMemcacheCache
from django.core.cache.backends.redis import RedisCache

#: Every counted call as ``(method, first argument)``; tests clear it.
calls: list[tuple[str, Any]] = []

_COUNTED = ("get", "get_many", "set", "add", "incr", "delete", "set_many")


def _counting(base: type) -> type:
    namespace: dict[str, Any] = {}
    for name in _COUNTED:

        def method(self: Any, *args: Any, _name: str = name, **kwargs: Any) -> Any:
            calls.append((_name, args[0] if args else None))
            return getattr(base, _name)(self, *args, **kwargs)

        namespace[name] = method
    return type(f"Counting{base.__name__}", (base,), namespace)


CountingLocMemCache = _counting(LocMemCache)
CountingRedisCache = _counting(RedisCache)
CountingPyMemcacheCache = _counting(PyMemcacheCache)
