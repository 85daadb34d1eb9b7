"""Component: own dict merged with children's, concurrent arender, caching, JSON response."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import warnings
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.test import RequestFactory
from django.test.utils import override_settings

from tests.toolkit.patterns.docs_examples import run_page
from toolkit.patterns.cache import invalidate
from toolkit.patterns.component import Component, ComponentMixin, DMRComponentMixin

calls: list[str] = []


class Name(Component):
    def render(self, context: dict) -> dict:
        calls.append("name")
        return {"name": f"user {context['user_id']}", "shared": "child"}


class Count(Component):
    def render(self, context: dict) -> dict:
        calls.append("count")
        return {"count": 3, "shared": "later child"}


class Page(Component):
    children = [Name(), Count()]

    def render(self, context: dict) -> dict:
        calls.append("page")
        return {"page": "profile"}


class CachedPage(Page):
    cache_ttl = 60


@pytest.fixture(autouse=True)
def fresh_cache():
    config = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "component-tests",
        }
    }
    with override_settings(CACHES=config):
        caches["default"].clear()
        calls.clear()
        yield


def test_render_merges_own_dict_with_children() -> None:
    assert Page().render({"user_id": 42}) == {
        "page": "profile",
        "name": "user 42",
        "shared": "later child",
        "count": 3,
    }
    assert list(Page().render({"user_id": 1})) == ["page", "name", "shared", "count"]


def test_parent_keys_win_over_children() -> None:
    class Override(Page):
        def render(self, context: dict) -> dict:
            return {"shared": "parent"}

    assert Override().render({"user_id": 1})["shared"] == "parent"


def test_arender_matches_render() -> None:
    assert async_to_sync(Page().arender)({"user_id": 42}) == Page().render({"user_id": 42})


def test_arender_resolves_children_concurrently() -> None:
    # Overlap detection instead of timing: the most renders in flight at once.
    in_flight = {"now": 0, "most": 0}

    class Slow(Component):
        def __init__(self, key: str) -> None:
            self.key = key

        async def arender(self, context: dict) -> dict:
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])
            await asyncio.sleep(0.01)
            in_flight["now"] -= 1
            return {self.key: True}

    class Parent(Component):
        children = [Slow("a"), Slow("b"), Slow("c")]

    result = async_to_sync(Parent().arender)({})
    assert result == {"a": True, "b": True, "c": True}
    assert in_flight["most"] == 3


def test_arender_resolves_synchronous_children_concurrently() -> None:
    # dmr-toolkit 0.1.0's README: "children resolved concurrently", with sync render().
    # Each child waits at a barrier for the other two: run one after another, the first
    # would wait alone and the barrier would break (BrokenBarrierError) after its timeout.
    barrier = threading.Barrier(3, timeout=10)
    threads: set[int] = set()

    class Child(Component):
        def __init__(self, key: str) -> None:
            self.key = key

        def render(self, context: dict) -> dict:
            threads.add(threading.get_ident())
            barrier.wait()
            return {self.key: context["user_id"]}

    class ProfilePage(Component):
        children = [Child("a"), Child("b"), Child("c")]

        def render(self, context: dict) -> dict:
            return {"page": "profile"}

    result = async_to_sync(ProfilePage().arender)({"user_id": 42})
    assert result == {"page": "profile", "a": 42, "b": 42, "c": 42}
    assert len(threads) == 3
    assert not barrier.broken


@pytest.mark.django_db
def test_sync_children_render_on_the_callers_thread_inside_its_transaction() -> None:
    # The test runs in a transaction: a worker thread's connection would not see its rows.
    from django.contrib.auth.models import Group

    Group.objects.create(name="uncommitted")
    seen: list[int] = []

    class Names(Component):
        def render(self, context: dict) -> dict:
            seen.append(threading.get_ident())
            return {"groups": list(Group.objects.values_list("name", flat=True))}

    class Parent(Component):
        children = [Names()]

    assert async_to_sync(Parent().arender)({}) == {"groups": ["uncommitted"]}
    assert seen == [threading.get_ident()]


def test_thread_sensitive_component_renders_on_the_callers_thread() -> None:
    seen: list[int] = []

    class Local(Component):
        thread_sensitive = True

        def render(self, context: dict) -> dict:
            seen.append(threading.get_ident())
            return {"local": True}

    class Parent(Component):
        children = [Local(), Local()]

    assert async_to_sync(Parent().arender)({}) == {"local": True}
    # async_to_sync from this (sync) thread: thread-sensitive code runs back on it.
    assert seen == [threading.get_ident()] * 2


def test_cache_ttl_caches_merged_output_per_context() -> None:
    page = CachedPage()
    first = page.render({"user_id": 1})
    assert page.render({"user_id": 1}) == first
    assert calls == ["page", "name", "count"]
    page.render({"user_id": 2})
    assert calls.count("page") == 2
    assert async_to_sync(page.arender)({"user_id": 1}) == first
    assert calls.count("page") == 2


def test_cached_output_expires_after_cache_ttl_seconds() -> None:
    page = CachedPage()
    page.render({"user_id": 1})
    cache = caches["default"]
    expires_at = cache._expire_info[cache.make_key(page.get_cache_key({"user_id": 1}))]
    assert 59 < expires_at - time.time() <= 60


def test_cached_component_is_invalidated_by_its_namespace() -> None:
    page = CachedPage()
    page.render({"user_id": 1})
    invalidate("components:CachedPage:*")
    page.render({"user_id": 1})
    assert calls.count("page") == 2


def test_cache_ttl_uses_the_cache_backend_alias() -> None:
    config = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "d"},
        "fragments": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "f"},
    }
    with override_settings(CACHES=config, TOOLKIT={"patterns": {"cache_backend": "fragments"}}):
        caches["fragments"].clear()
        page = CachedPage()
        result = page.render({"user_id": 5})
        key = page.get_cache_key({"user_id": 5})
        assert caches["fragments"].get(key)[1] == result
        assert caches["default"].get(key) is None
        caches["fragments"].clear()  # dropping that alias's data means rendering again
        page.render({"user_id": 5})
    assert calls.count("page") == 2


def test_unsafe_cache_prefix_still_caches_and_invalidates() -> None:
    class Spaced(CachedPage):
        cache_prefix = "profile pages é:"

    page = Spaced()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django's CacheKeyWarning for memcached-unsafe keys
        page.render({"user_id": 1})
        page.render({"user_id": 1})
        assert calls.count("page") == 1
        invalidate("profile pages é:*")
        page.render({"user_id": 1})
    assert calls.count("page") == 2


def test_render_must_return_a_dict() -> None:
    class Bad(Component):
        def render(self, context: dict) -> dict:
            return ["x"]  # type: ignore[return-value]

    with pytest.raises(TypeError, match=r"Bad\.render\(\) must return a dict, not list"):
        Bad().render({})


def test_component_response_renders_with_the_users_id() -> None:
    class ProfileController(ComponentMixin):
        def get(self, request):
            return self.component_response(Page())

    request = RequestFactory().get("/profile/")
    request.user = SimpleNamespace(pk=42, is_authenticated=True)
    response = ProfileController.as_view()(request)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["name"] == "user 42"


def test_component_context_includes_url_kwargs() -> None:
    class OrderController(ComponentMixin):
        def get(self, request, user_id):
            return self.component_response(Name())

    response = OrderController.as_view()(RequestFactory().get("/"), user_id=5)
    assert json.loads(response.content)["name"] == "user 5"


def test_async_component_response() -> None:
    class ProfileController(DMRComponentMixin):
        async def get(self, request):
            return await self.acomponent_response(Page(), {"user_id": 7}, status=201)

    request = RequestFactory().get("/profile/")
    response = async_to_sync(ProfileController.as_view())(request)
    assert response.status_code == 201
    assert json.loads(response.content)["name"] == "user 7"
    assert DMRComponentMixin is ComponentMixin


def test_docs_page_examples_run() -> None:
    run_page("component.md")
