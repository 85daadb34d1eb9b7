"""Component: self-contained API response fragments that compose into larger responses.

::

    class UserCard(Component):
        def render(self, context: dict) -> dict:
            user = User.objects.get(id=context["user_id"])
            return {"user": {"id": user.id, "name": user.name}}

    class ProfilePage(Component):
        children = [UserCard(), OrderSummary()]
        cache_ttl = 60

        def render(self, context: dict) -> dict:
            return {"page": "profile"}

    ProfilePage().render({"user_id": 42})         # {"page": ..., "user": ..., "order_count": ...}
    await ProfilePage().arender({"user_id": 42})  # same, children resolved concurrently

What a subclass writes in ``render`` (or ``arender``) is its *own* part. Calling ``render`` or
``arender`` on a component returns that part merged with its children's results: the parent's
own keys win over its children's, and a later child's keys win over an earlier child's.
``arender`` runs the children with ``asyncio.gather``; a component without its own ``arender``
runs its ``render`` in a worker thread, so synchronous children are resolved concurrently too
(three 0.3 s renders take about 0.3 s, as dmr-toolkit 0.1.0's ``run_in_executor`` did). A
worker closes the database connections it opened once they are old (``close_old_connections``,
Django's end-of-request rule, honouring ``CONN_MAX_AGE``). While the caller's thread is inside a
transaction (``ATOMIC_REQUESTS``, ``transaction.atomic``, a ``TestCase``), sync renders run on
that thread, one after another: a worker's own connection could not see the transaction's
uncommitted rows. Set ``thread_sensitive = True`` on a component whose ``render`` must always
run on the caller's thread (code that is not thread-safe).

With ``cache_ttl`` (seconds) the merged result is cached in the ``cache_backend`` alias, keyed by
the class and the context, in the namespaces ``components:`` and ``components:<QualName>:``, so
``toolkit.patterns.cache.invalidate("components:ProfilePage:*")`` drops it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from asgiref.sync import sync_to_async
from django.views import View

from toolkit.patterns import cache as _cache

if TYPE_CHECKING:
    from django.http import JsonResponse

__all__ = ["Component", "ComponentMixin", "DMRComponentMixin"]

RenderFunc = Callable[[Any, dict[str, Any]], dict[str, Any]]
ARenderFunc = Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any]]]


class Component:
    """A piece of a response that fetches its own data; see the module docstring.

    Attributes: ``children`` (components merged into this one), ``cache_ttl`` (seconds, or
    None for no caching) and ``cache_prefix`` (default ``"components:<QualName>:"``).
    Override :meth:`get_children` or :meth:`get_cache_key` for per-context choices.
    """

    children: ClassVar[Sequence[Component]] = ()
    cache_ttl: ClassVar[float | None] = None
    cache_prefix: ClassVar[str] = ""
    #: Run a synchronous ``render`` under ``arender`` on the caller's thread (one at a time)
    #: instead of a worker thread of its own.
    thread_sensitive: ClassVar[bool] = False

    _own_render: ClassVar[RenderFunc]
    _own_arender: ClassVar[ARenderFunc | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "cache_prefix" not in cls.__dict__:
            cls.cache_prefix = f"components:{cls.__qualname__}:"
        # The subclass writes its own part; the public methods return the merged tree.
        if "render" in cls.__dict__:
            cls._own_render = cls.__dict__["render"]
            cls.render = _tree_render  # type: ignore[method-assign]
        if "arender" in cls.__dict__:
            cls._own_arender = cls.__dict__["arender"]
            cls.arender = _tree_arender  # type: ignore[method-assign]

    def render(self, context: dict[str, Any]) -> dict[str, Any]:
        """Return this component's dict merged with its children's."""
        return _tree_render(self, context)

    async def arender(self, context: dict[str, Any]) -> dict[str, Any]:
        """Async :meth:`render`; children are rendered concurrently."""
        return await _tree_arender(self, context)

    def get_children(self, context: dict[str, Any]) -> Sequence[Component]:
        """Return the child components to merge (``children`` by default)."""
        return self.children

    def get_cache_key(self, context: dict[str, Any]) -> str:
        """Return the cache key for ``context`` (class prefix + a digest of the context)."""
        raw = json.dumps(context, sort_keys=True, default=str, separators=(",", ":"))
        return self.cache_prefix + hashlib.sha256(raw.encode()).hexdigest()[:40]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _own_part(component: Component, context: dict[str, Any]) -> dict[str, Any]:
    own_render = getattr(type(component), "_own_render", None)
    result = {} if own_render is None else own_render(component, context)
    return _check_dict(component, result)


def _own_part_in_worker(component: Component, context: dict[str, Any]) -> dict[str, Any]:
    """:func:`_own_part` on a worker thread, closing the connections it leaves behind.

    A worker thread is no request: nothing else would close the connection its ORM queries
    opened, so it gets the end-of-request treatment here.
    """
    from django.db import close_old_connections

    try:
        return _own_part(component, context)
    finally:
        close_old_connections()


def _caller_in_transaction() -> bool:
    """Whether a connection of this (the caller's) thread is inside an atomic block."""
    from django.db import connections

    return any(conn.in_atomic_block for conn in connections.all(initialized_only=True))


def _check_dict(component: Component, result: Any) -> dict[str, Any]:
    if not isinstance(result, dict):
        raise TypeError(
            f"{type(component).__name__}.render() must return a dict, not {type(result).__name__}"
        )
    return result


def _merge(own: dict[str, Any], parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    merged = dict(own)
    from_children: dict[str, Any] = {}
    for part in parts:
        from_children.update(part)
    for key, value in from_children.items():
        if key not in own:
            merged[key] = value
    return merged


def _cached(component: Component, context: dict[str, Any]) -> tuple[str, Any] | None:
    """``(key, namespaces)`` when the component caches its output, else None."""
    if not component.cache_ttl:
        return None
    key = component.get_cache_key(context)
    if not _cache._safe(key):  # a custom cache_prefix with spaces, non-ASCII, too long
        key = "toolkit:cache:#" + hashlib.sha256(key.encode()).hexdigest()
    return key, _cache.namespaces_of(component.cache_prefix)


def _tree_render(self: Component, context: dict[str, Any]) -> dict[str, Any]:
    caching = _cached(self, context)
    if caching is not None:
        alias = _cache._alias()
        hit, value, versions = _cache.lookup(alias, caching[0], caching[1])
        if hit:
            return value  # type: ignore[no-any-return]
    own = _own_part(self, context)
    result = _merge(own, [child.render(context) for child in self.get_children(context)])
    if caching is not None:
        _cache.store(alias, caching[0], versions, result, self.cache_ttl)
    return result


async def _tree_arender(self: Component, context: dict[str, Any]) -> dict[str, Any]:
    caching = _cached(self, context)
    if caching is not None:
        alias = _cache._alias()
        hit, value, versions = await sync_to_async(_cache.lookup)(alias, caching[0], caching[1])
        if hit:
            return value  # type: ignore[no-any-return]
    own_arender = type(self)._own_arender
    children = self.get_children(context)
    if own_arender is not None:
        own_task: Awaitable[dict[str, Any]] = own_arender(self, context)
    elif self.thread_sensitive or await sync_to_async(_caller_in_transaction)():
        own_task = sync_to_async(functools.partial(_own_part, self))(context)
    else:
        # A thread of its own, so that sibling components' sync renders overlap.
        own_task = sync_to_async(
            functools.partial(_own_part_in_worker, self), thread_sensitive=False
        )(context)
    own, *parts = await asyncio.gather(own_task, *(child.arender(context) for child in children))
    result = _merge(_check_dict(self, own), parts)
    if caching is not None:
        await sync_to_async(_cache.store)(alias, caching[0], versions, result, self.cache_ttl)
    return result


class ComponentMixin(View):
    """Class-based view mixin answering with a component's merged dict as JSON.

    ::

        class ProfileController(ComponentMixin):
            def get(self, request):
                return self.component_response(ProfilePage())

        path("profile/<int:user_id>/", ProfileController.as_view())

    The context defaults to :meth:`get_component_context`: the URL kwargs plus ``user_id`` of
    an authenticated user (never raw query parameters, which would let clients fill the cache).
    """

    def get_component_context(self) -> dict[str, Any]:
        """Return the context components render with (URL kwargs and the user's id)."""
        context: dict[str, Any] = dict(getattr(self, "kwargs", {}) or {})
        request = getattr(self, "request", None)
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            context.setdefault("user_id", user.pk)
        return context

    def component_response(
        self, component: Component, context: dict[str, Any] | None = None, *, status: int = 200
    ) -> JsonResponse:
        """Render ``component`` (sync) and return it as a ``JsonResponse``."""
        from django.http import JsonResponse

        data = component.render(self.get_component_context() if context is None else context)
        return JsonResponse(data, status=status)

    async def acomponent_response(
        self, component: Component, context: dict[str, Any] | None = None, *, status: int = 200
    ) -> JsonResponse:
        """Async :meth:`component_response` for ``async def`` handlers (uses ``arender``)."""
        from django.http import JsonResponse

        data = await component.arender(self.get_component_context() if context is None else context)
        return JsonResponse(data, status=status)


#: The seed's name for :class:`ComponentMixin`.
DMRComponentMixin = ComponentMixin
