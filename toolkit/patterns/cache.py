"""Cache layer: ``@cached`` results and prefix invalidation that works on every backend.

::

    @cached(ttl=300, key_prefix="orders:", vary_on=["user_id"])
    def get_user_orders(user_id: int) -> list[Order]:
        return list(Order.objects.filter(user_id=user_id))

    @cache_invalidate("orders:*")
    def create_order(user_id: int, data: dict) -> Order:
        return Order.objects.create(user_id=user_id, **data)

    invalidate("orders:*")  # the same, as a plain call

The cache alias is ``TOOLKIT["patterns"]["cache_backend"]``, read at call time.

How invalidation works without scanning keys (versioned namespaces)
-------------------------------------------------------------------
Each ``key_prefix`` is a *namespace* (and so is every ``:``-terminated part of it:
``"orders:user:"`` belongs to ``"orders:"`` and ``"orders:user:"``). Every namespace has a
version number. A cached entry is stored as ``(versions, value)``: the versions of its
namespaces read *before* the function ran. A read is a hit only when the stored versions equal
the current ones, and ``invalidate("orders:*")`` just increments the ``"orders:"`` version, so
every older entry stops matching at once, in every process, whatever the number of keys.

Where the versions live, and why a hit is one round trip:

- Shared backends (Redis, Memcached, database, file): the version is a cache key
  (``toolkit:cache:ns:<namespace>``) and a lookup fetches the data key *and* the version keys
  with one ``get_many`` (one ``MGET`` on Redis). Invalidation is ``incr`` (atomic on Redis and
  Memcached; a read-modify-write on the database and file backends, which at worst turns two
  racing invalidations into one, still invalidating).
- ``LocMemCache`` is private to its process, so its versions are kept in a process-local dict
  next to it (same scope as the data): a hit is one ``get``, with no second key to decode.

A version key that is missing (evicted, or never written) is created with ``add`` and a random
start value, never 0, so an entry written before an eviction cannot match again (no ABA). The
versions are read before the function runs, so an invalidation that lands while a slow miss is
computing makes that result stale on arrival instead of caching outdated data under the new
version.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import hashlib
import inspect
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from django.core.signals import setting_changed

from toolkit.conf import on_reload, toolkit_settings
from toolkit.contrib.otel import is_enabled as is_tracing
from toolkit.contrib.otel import span
from toolkit.core.exceptions import ValidationError

__all__ = ["cache_invalidate", "cached", "invalidate", "namespaces_of", "version_key"]

P = ParamSpec("P")
R = TypeVar("R")

VERSION_KEY = "toolkit:cache:ns:{namespace}"
_MAX_KEY = 200  # Memcached refuses keys over 250 bytes; Django's KEY_PREFIX needs room too.
_MISSING = object()


# -- where the namespace versions live ---------------------------------------------------------


@dataclass
class _LocalVersions:
    """Namespace versions of one process-local cache (same scope as its data)."""

    versions: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self, namespaces: Sequence[str]) -> tuple[int, ...]:
        get = self.versions.get
        if len(namespaces) == 1:
            return (get(namespaces[0], 0),)
        return tuple([get(ns, 0) for ns in namespaces])

    def bump(self, namespace: str) -> None:
        with self.lock:
            self.versions[namespace] = self.versions.get(namespace, 0) + 1


_local_by_location: dict[str, _LocalVersions] = {}
_local_for_alias: dict[str, _LocalVersions | None] = {}
_local_lock = threading.Lock()


def _local_versions(alias: str) -> _LocalVersions | None:
    """The process-local version store of ``alias`` when it is a LocMemCache, else None."""
    try:
        return _local_for_alias[alias]
    except KeyError:
        pass
    from django.conf import settings
    from django.core.cache.backends.locmem import LocMemCache
    from django.utils.module_loading import import_string

    config = settings.CACHES.get(alias, {})
    backend = import_string(config.get("BACKEND", ""))
    store: _LocalVersions | None = None
    if issubclass(backend, LocMemCache):
        # LocMemCache instances with the same LOCATION share their data, so they share versions.
        location = str(config.get("LOCATION", ""))
        with _local_lock:
            store = _local_by_location.setdefault(location, _LocalVersions())
    _local_for_alias[alias] = store
    return store


def _forget_backends(*, setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        _local_for_alias.clear()
        _generation[0] += 1


setting_changed.connect(_forget_backends, dispatch_uid="toolkit.patterns.cache")


_alias_value: list[str] = []


def _alias() -> str:
    """The ``cache_backend`` alias; re-read after every change of the ``TOOLKIT`` setting."""
    if _alias_value:
        return _alias_value[0]
    alias = str(toolkit_settings.patterns["cache_backend"])
    _alias_value[:] = [alias]
    return alias


_thread_backends = threading.local()
_generation = [0]


def _cache(alias: str) -> Any:
    """``caches[alias]``, remembered per thread (``caches`` itself costs more than a hit)."""
    state: tuple[int, dict[str, Any]] | None = getattr(_thread_backends, "state", None)
    if state is not None and state[0] == _generation[0]:
        backend = state[1].get(alias)
        if backend is not None:
            return backend
    else:
        state = (_generation[0], {})
        _thread_backends.state = state
    from django.core.cache import caches

    backend = state[1][alias] = caches[alias]
    return backend


def _fresh_version() -> int:
    return secrets.randbits(48) + 1


def version_key(namespace: str) -> str:
    """The cache key holding ``namespace``'s version (hashed when not Memcached-safe)."""
    key = VERSION_KEY.format(namespace=namespace)
    if _safe(key):
        return key
    return VERSION_KEY.format(namespace="#" + hashlib.sha256(namespace.encode()).hexdigest())


@functools.lru_cache(maxsize=4096)
def _version_keys(namespaces: tuple[str, ...]) -> list[str]:
    # Cached: the same few namespace tuples are looked up on every hit.
    return [version_key(ns) for ns in namespaces]


# -- one lookup, one store, one invalidation: shared by @cached and Component -----------------


def lookup(alias: str, key: str, namespaces: Sequence[str]) -> tuple[bool, Any, tuple[Any, ...]]:
    """Return ``(hit, value, versions)`` for ``key`` in one cache round trip.

    ``versions`` are the namespace versions to store a freshly computed value with (``()``
    when they cannot be established, e.g. on the dummy backend: then do not store).
    """
    cache = _cache(alias)
    local = _local_versions(alias)
    if local is not None:
        entry = cache.get(key)
        versions: tuple[Any, ...] = local.current(namespaces)
        if entry is not None and entry[0] == versions:
            return True, entry[1], versions
        return False, None, versions
    version_keys = _version_keys(tuple(namespaces))
    found = cache.get_many([key, *version_keys])
    versions = tuple([found.get(vk) for vk in version_keys])
    entry = found.get(key)
    if None not in versions:
        if entry is not None and entry[0] == versions:
            return True, entry[1], versions
        return False, None, versions
    return False, None, _initialise(cache, version_keys, versions)


def _initialise(cache: Any, version_keys: list[str], versions: tuple[Any, ...]) -> tuple[Any, ...]:
    missing = [vk for vk, v in zip(version_keys, versions, strict=True) if v is None]
    for vk in missing:
        cache.add(vk, _fresh_version(), timeout=None)
    # Re-read: a concurrent add or invalidate may have won the race.
    found = cache.get_many(missing)
    merged = tuple(
        found.get(vk) if v is None else v for vk, v in zip(version_keys, versions, strict=True)
    )
    return () if None in merged else merged


def store(alias: str, key: str, versions: tuple[Any, ...], value: Any, ttl: float | None) -> None:
    """Store ``value`` under ``key``, tagged with the namespace versions read before computing."""
    if versions == ():
        return
    _cache(alias).set(key, (versions, value), ttl)


def invalidate(*patterns: str) -> None:
    """Invalidate every entry under each ``"<prefix>*"`` pattern, in every process.

    ``invalidate("orders:*")`` costs one ``incr`` whatever the number of entries. Raises
    ``ValidationError`` for a pattern that is not a prefix followed by ``*``; nothing is
    invalidated then.
    """
    namespaces = [_namespace_of_pattern(p) for p in patterns]
    alias = _alias()
    for namespace in namespaces:
        with span("cache.invalidate", pattern=f"{namespace}*", alias=alias):
            _bump(alias, namespace)


def _bump(alias: str, namespace: str) -> None:
    local = _local_versions(alias)
    if local is not None:
        local.bump(namespace)
        return
    cache = _cache(alias)
    key = version_key(namespace)
    try:
        cache.incr(key)
    except ValueError:
        # Missing version: no entry of the namespace can match anyway; start a fresh one,
        # unless a concurrent reader or invalidator created it first, then move it on.
        if not cache.add(key, _fresh_version(), timeout=None):
            cache.incr(key)


def _namespace_of_pattern(pattern: Any) -> str:
    if (
        not isinstance(pattern, str)
        or not pattern.endswith("*")
        or len(pattern) < 2
        or any(ch in pattern[:-1] for ch in "*?[]")
    ):
        raise ValidationError(
            f"Cannot invalidate {pattern!r}: use a key prefix followed by '*', e.g. 'orders:*'",
            field="pattern",
            value=pattern,
        )
    return pattern[:-1]


def namespaces_of(key_prefix: str) -> tuple[str, ...]:
    """The namespaces an entry with ``key_prefix`` belongs to (its ``:``-terminated parts).

    >>> namespaces_of("orders:user:")
    ('orders:', 'orders:user:')
    """
    parts = [key_prefix[: i + 1] for i, ch in enumerate(key_prefix) if ch == ":"]
    if not parts or parts[-1] != key_prefix:
        parts.append(key_prefix)
    return tuple(parts)


# -- keys ---------------------------------------------------------------------------------------


def _key_part(value: Any, name: str, owner: str) -> str:
    kind = type(value)
    if kind is int or kind is str or kind is float or kind is bool or value is None:
        return repr(value)
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, decimal.Decimal | uuid.UUID | datetime.date | datetime.time):
        return f"{type(value).__name__}({value})"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return "[" + ",".join(_key_part(v, name, owner) for v in items) + "]"
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{k!r}={_key_part(value[k], name, owner)}" for k in sorted(value)) + "}"
        )
    meta = getattr(value, "_meta", None)
    if meta is not None and hasattr(value, "pk"):  # a model instance: its identity
        return f"{meta.label}:{value.pk!r}"
    raise ValidationError(
        f"Cannot build a cache key for {owner}() from argument {name!r} = {value!r}: use "
        "str, int, float, bool, None, Decimal, UUID, date, enum, model instances or "
        "lists/dicts of them, or leave it out with vary_on",
        field=name,
        value=value,
    )


def _safe(key: str) -> bool:
    # Memcached-safe: short, printable ASCII without spaces (string methods run in C).
    return len(key) <= _MAX_KEY and key.isascii() and key.isprintable() and " " not in key


@dataclass(frozen=True)
class _Arg:
    name: str
    index: int | None  # position when it can be passed positionally
    default: Any


class _KeyBuilder:
    """Turns a call's arguments into a cache key, without ``inspect`` on the hot path."""

    def __init__(self, func: Callable[..., Any], prefix: str, vary_on: Sequence[str] | None):
        self.owner = func.__qualname__
        signature = inspect.signature(func)
        params = list(signature.parameters.values())
        by_name = {p.name: p for p in params}
        if vary_on is None:
            names = [
                p.name
                for i, p in enumerate(params)
                if not (i == 0 and p.name in ("self", "cls"))
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            ]
        else:
            if isinstance(vary_on, str):
                raise ValidationError(
                    f"vary_on must be a list of parameter names, not the string {vary_on!r}",
                    field="vary_on",
                    value=vary_on,
                )
            names = list(vary_on)
            unknown = [n for n in names if n not in by_name]
            if unknown:
                valid = ", ".join(repr(p.name) for p in params) or "none"
                raise ValidationError(
                    f"vary_on names {', '.join(repr(n) for n in unknown)}, which "
                    f"{self.owner}() does not take; its parameters are: {valid}",
                    field="vary_on",
                    value=list(vary_on),
                )
        self.args = []
        for name in names:
            param = by_name[name]
            index = (
                params.index(param)
                if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
                else None
            )
            default = _MISSING if param.default is param.empty else param.default
            self.args.append(_Arg(name, index, default))
        self.prefix = prefix
        # Hashed keys keep a readable prefix only when it is itself Memcached-safe and short.
        safe_prefix = _safe(prefix) and len(prefix) <= _MAX_KEY - 65
        self.hashed_prefix = prefix if safe_prefix else "toolkit:cache:"

    def __call__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        parts = []
        for arg in self.args:
            if arg.index is not None and arg.index < len(args):
                value = args[arg.index]
            else:
                value = kwargs.get(arg.name, arg.default)
                if value is _MISSING:
                    raise TypeError(f"{self.owner}() missing required argument: {arg.name!r}")
            kind = type(value)
            if kind is int or kind is str:
                parts.append(repr(value))
            else:
                parts.append(_key_part(value, arg.name, self.owner))
        key = self.prefix + ":".join(parts)
        if _safe(key):
            return key
        digest = hashlib.sha256(key.encode()).hexdigest()
        return f"{self.hashed_prefix}#{digest}"


# -- decorators ---------------------------------------------------------------------------------


def _check_ttl(ttl: Any) -> None:
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0):
        raise ValidationError(
            f"ttl must be a positive number of seconds or None (no expiry), not {ttl!r}",
            field="ttl",
            value=ttl,
        )


def cached(
    ttl: float | None = 300,
    key_prefix: str = "",
    vary_on: Sequence[str] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache a function's result in the ``cache_backend`` alias for ``ttl`` seconds.

    ``vary_on`` lists the parameters that make up the key (default: all of them, except a
    leading ``self``/``cls``). Keys are ``<key_prefix><qualname>:<values>`` and belong to the
    namespaces of ``key_prefix`` (see :func:`namespaces_of`); ``invalidate("<prefix>*")``
    drops them. Without ``key_prefix`` the namespace is ``"<module>.<qualname>:"``.
    A hit is one cache round trip. Works on sync and ``async def`` functions; the wrapper has
    ``cache_key(*args, **kwargs)`` and ``namespaces``.
    """
    _check_ttl(ttl)
    if not isinstance(key_prefix, str):
        raise ValidationError(
            f"key_prefix must be a string, not {key_prefix!r}", field="key_prefix", value=key_prefix
        )

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        func_id = f"{func.__module__}.{func.__qualname__}"
        prefix = key_prefix or f"{func_id}:"
        namespaces = namespaces_of(prefix)
        build_key = _KeyBuilder(func, f"{key_prefix}{func_id}:", vary_on)

        if inspect.iscoroutinefunction(func):
            return _async_wrapper(func, build_key, namespaces, ttl)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            alias = _alias()
            key = build_key(args, kwargs)
            hit, value, versions = lookup(alias, key, namespaces)
            if hit:
                if is_tracing():
                    with span("cache.hit", key=key, alias=alias):
                        pass
                return value  # type: ignore[no-any-return]
            with span("cache.miss", key=key, alias=alias):
                result = func(*args, **kwargs)
                store(alias, key, versions, result, ttl)
                return result

        wrapper.cache_key = lambda *a, **kw: build_key(a, kw)  # type: ignore[attr-defined]
        wrapper.namespaces = namespaces  # type: ignore[attr-defined]
        return wrapper

    return decorator


def _async_wrapper(
    func: Callable[..., Any], build_key: _KeyBuilder, namespaces: tuple[str, ...], ttl: float | None
) -> Callable[..., Any]:
    from asgiref.sync import sync_to_async

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        alias = _alias()
        key = build_key(args, kwargs)
        hit, value, versions = await sync_to_async(lookup)(alias, key, namespaces)
        if hit:
            if is_tracing():
                with span("cache.hit", key=key, alias=alias):
                    pass
            return value
        with span("cache.miss", key=key, alias=alias):
            result = await func(*args, **kwargs)
            await sync_to_async(store)(alias, key, versions, result, ttl)
            return result

    wrapper.cache_key = lambda *a, **kw: build_key(a, kw)  # type: ignore[attr-defined]
    wrapper.namespaces = namespaces  # type: ignore[attr-defined]
    return wrapper


def cache_invalidate(*patterns: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Invalidate ``patterns`` (``"orders:*"``) after each successful call of the function.

    Inside a database transaction the invalidation is repeated after commit, so a reader in
    another process cannot re-cache the pre-commit data in between. A call that raises
    invalidates nothing.
    """
    for pattern in patterns:
        _namespace_of_pattern(pattern)
    if not patterns:
        raise ValidationError(
            "cache_invalidate() needs at least one pattern, e.g. 'orders:*'", field="pattern"
        )

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(func):
            from asgiref.sync import sync_to_async

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                result = await func(*args, **kwargs)
                await sync_to_async(_invalidate_now_and_on_commit)(patterns)
                return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            result = func(*args, **kwargs)
            _invalidate_now_and_on_commit(patterns)
            return result

        return wrapper

    return decorator


def _invalidate_now_and_on_commit(patterns: Iterable[str]) -> None:
    patterns = tuple(patterns)
    invalidate(*patterns)
    from django.db import connection, transaction

    if connection.in_atomic_block:
        transaction.on_commit(lambda: invalidate(*patterns))


@on_reload
def _forget_alias_state() -> None:
    # The alias may now point at another backend; recompute where its versions live.
    _alias_value.clear()
    _local_for_alias.clear()
