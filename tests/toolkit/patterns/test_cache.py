"""@cached / cache_invalidate / invalidate on LocMem and the real Redis server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import uuid
import warnings
from importlib.util import find_spec

import pytest
from asgiref.sync import async_to_sync
from django.core.cache import caches
from django.db import transaction
from django.test.utils import override_settings

from tests import services
from tests.toolkit.patterns import counting_cache
from tests.toolkit.patterns.docs_examples import run_page
from toolkit.patterns.cache import (
    VERSION_KEY,
    cache_invalidate,
    cached,
    invalidate,
    namespaces_of,
    version_key,
)
from toolkit.patterns.exceptions import ValidationError
from toolkit.testing.otel import capture_spans

COUNTING_LOCMEM = "tests.toolkit.patterns.counting_cache.CountingLocMemCache"
COUNTING_REDIS = "tests.toolkit.patterns.counting_cache.CountingRedisCache"
COUNTING_MEMCACHED = "tests.toolkit.patterns.counting_cache.CountingPyMemcacheCache"


def redis_caches(redis_url: str, prefix: str) -> dict:
    # Our own Redis database (12) and a key prefix unique to the test.
    location = redis_url.rsplit("/", 1)[0] + "/12"
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {"BACKEND": COUNTING_REDIS, "LOCATION": location, "KEY_PREFIX": prefix},
    }


@pytest.fixture(scope="session")
def memcached_location():
    """A private memcached server on a free loopback port, for this test session only.

    Skips when Debian's ``memcached`` binary (``apt-get install memcached``, which
    ``make test`` runs) or ``pymemcache`` (the ``dev`` extra) is missing; fails in CI.
    """
    binary = shutil.which("memcached")
    if binary is None or find_spec("pymemcache") is None:
        reason = "memcached tests need `apt-get install memcached` and pymemcache"
        if services.in_ci():
            pytest.fail(f"{reason} (CI=true: server-backed tests must run)", pytrace=False)
        pytest.skip(reason)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "16"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command += ["-u", "nobody"]  # memcached refuses to run as root
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"memcached did not start: {server.stderr.read()!r}") from None
            time.sleep(0.05)
    yield f"127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(params=["locmem", "redis", "memcached"])
def backend(request):
    """Run the test on a (counting) LocMemCache, the real Redis server and a real memcached."""
    prefix = f"tk-more-{uuid.uuid4().hex[:8]}"
    if request.param == "locmem":
        config = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "shared": {"BACKEND": COUNTING_LOCMEM, "LOCATION": prefix},
        }
    elif request.param == "memcached":
        config = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "shared": {
                "BACKEND": COUNTING_MEMCACHED,
                "LOCATION": request.getfixturevalue("memcached_location"),
                "KEY_PREFIX": prefix,
            },
        }
    else:
        config = redis_caches(request.getfixturevalue("redis_url"), prefix)
    with override_settings(CACHES=config, TOOLKIT={"patterns": {"cache_backend": "shared"}}):
        counting_cache.calls.clear()
        caches["default"].clear()
        yield request.param
        if request.param == "locmem":
            caches["shared"].clear()
    if request.param == "redis":
        delete_redis_keys(config["shared"]["LOCATION"], prefix)


def delete_redis_keys(location: str, prefix: str) -> None:
    """Remove this test's keys only (never FLUSHDB: the server is shared)."""
    import redis

    client = redis.Redis.from_url(location)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


class Source:
    """A fake data source counting how often the cached function really ran."""

    def __init__(self) -> None:
        self.calls = 0
        self.value = "v1"

    def read(self, user_id: int) -> str:
        self.calls += 1
        return f"{self.value}:{user_id}"


def test_hit_returns_cached_value_in_one_round_trip(backend) -> None:
    source = Source()

    @cached(ttl=300, key_prefix="orders:", vary_on=["user_id"])
    def get_user_orders(user_id: int) -> str:
        return source.read(user_id)

    assert get_user_orders(user_id=42) == "v1:42"
    source.value = "v2"
    counting_cache.calls.clear()
    assert get_user_orders(user_id=42) == "v1:42"
    assert get_user_orders(42) == "v1:42"
    assert source.calls == 1
    expected = "get" if backend == "locmem" else "get_many"
    assert [name for name, _ in counting_cache.calls] == [expected, expected]


def test_vary_on_isolates_entries(backend) -> None:
    source = Source()

    @cached(ttl=300, key_prefix="orders:", vary_on=["user_id"])
    def get_user_orders(user_id: int, verbose: bool = False) -> str:
        return source.read(user_id)

    assert get_user_orders(1) == "v1:1"
    assert get_user_orders(2) == "v1:2"
    assert get_user_orders(1, verbose=True) == "v1:1"
    assert source.calls == 2


def test_invalidate_pattern_drops_every_entry_of_the_namespace(backend) -> None:
    source = Source()

    @cached(key_prefix="orders:")
    def get_user_orders(user_id: int) -> str:
        return source.read(user_id)

    @cached(key_prefix="profiles:")
    def get_profile(user_id: int) -> str:
        return source.read(user_id)

    for user_id in (1, 2, 3):
        get_user_orders(user_id)
    get_profile(1)
    source.value = "v2"
    invalidate("orders:*")
    assert [get_user_orders(u) for u in (1, 2, 3)] == ["v2:1", "v2:2", "v2:3"]
    assert get_profile(1) == "v1:1"


def test_invalidation_is_one_incr_whatever_the_number_of_entries(backend) -> None:
    @cached(key_prefix="many:")
    def read(user_id: int) -> int:
        return user_id

    for user_id in range(50):
        read(user_id)
    counting_cache.calls.clear()
    invalidate("many:*")
    if backend == "locmem":
        assert counting_cache.calls == []  # the versions live next to the process-local data
    else:
        assert counting_cache.calls == [("incr", VERSION_KEY.format(namespace="many:"))]
    counting_cache.calls.clear()
    assert read(7) == 7
    assert [name for name, _ in counting_cache.calls] == (
        ["get"] if backend == "locmem" else ["get_many"]
    ) + ["set"]  # a miss after the invalidation, stored again


@pytest.mark.parametrize(
    "key_prefix", ["user orders é:", "x" * 300 + ":"], ids=["spaces-non-ascii", "long"]
)
def test_unsafe_key_prefix_is_hashed_into_memcached_safe_keys(backend, key_prefix) -> None:
    source = Source()

    @cached(key_prefix=key_prefix)
    def read(user_id: int) -> str:
        return source.read(user_id)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django's CacheKeyWarning for unsafe keys
        assert read(1) == "v1:1"
        source.value = "v2"
        assert read(1) == "v1:1"
        invalidate(f"{key_prefix}*")
        assert read(1) == "v2:1"
    assert source.calls == 2
    key = read.cache_key(1)
    assert key.startswith("toolkit:cache:#") and len(key) == len("toolkit:cache:#") + 64
    assert version_key(key_prefix).startswith("toolkit:cache:ns:#")


def test_invalidate_parent_namespace_covers_nested_prefixes(backend) -> None:
    source = Source()

    @cached(key_prefix="orders:user:")
    def by_user(user_id: int) -> str:
        return source.read(user_id)

    assert by_user.namespaces == ("orders:", "orders:user:")
    by_user(1)
    source.value = "v2"
    invalidate("orders:*")
    assert by_user(1) == "v2:1"
    source.value = "v3"
    invalidate("orders:user:*")
    assert by_user(1) == "v3:1"


def test_cache_invalidate_decorator_invalidates_after_success_only(backend) -> None:
    source = Source()

    @cached(key_prefix="orders:")
    def get_user_orders(user_id: int) -> str:
        return source.read(user_id)

    @cache_invalidate("orders:*")
    def create_order(user_id: int, fail: bool = False) -> str:
        if fail:
            raise RuntimeError("no")
        return "created"

    get_user_orders(1)
    source.value = "v2"
    with pytest.raises(RuntimeError):
        create_order(1, fail=True)
    assert get_user_orders(1) == "v1:1"
    assert create_order(1) == "created"
    assert get_user_orders(1) == "v2:1"


def test_missing_version_key_is_a_miss_and_never_matches_old_entries(backend) -> None:
    source = Source()

    @cached(key_prefix="evict:")
    def read(user_id: int) -> str:
        return source.read(user_id)

    read(1)
    if backend != "locmem":
        caches["shared"].delete(VERSION_KEY.format(namespace="evict:"))
        source.value = "v2"
        assert read(1) == "v2:1"  # the eviction of the version key invalidated the entry
        assert read(1) == "v2:1"
        assert source.calls == 2
    else:
        assert read(1) == "v1:1"


def test_invalidation_during_a_slow_miss_keeps_the_stale_result_out(backend) -> None:
    source = Source()

    @cached(key_prefix="race:")
    def read(user_id: int) -> str:
        value = source.read(user_id)
        invalidate("race:*")  # another writer commits while we compute
        return value

    assert read(1) == "v1:1"
    source.value = "v2"
    assert read(1) == "v2:1"
    assert source.calls == 2


def test_async_function_is_cached(backend) -> None:
    source = Source()

    @cached(key_prefix="async:")
    async def read(user_id: int) -> str:
        return source.read(user_id)

    assert async_to_sync(read)(1) == "v1:1"
    assert async_to_sync(read)(1) == "v1:1"
    assert source.calls == 1


def test_alias_is_read_at_call_time(backend) -> None:
    source = Source()

    @cached(key_prefix="switch:")
    def read(user_id: int) -> str:
        return source.read(user_id)

    read(1)
    with override_settings(TOOLKIT={"patterns": {"cache_backend": "default"}}):
        read(1)  # another backend: a miss there
        read(1)
    read(1)
    assert source.calls == 2


def test_spans_for_hit_miss_and_invalidate(backend) -> None:
    @cached(key_prefix="spans:")
    def read(user_id: int) -> int:
        return user_id

    with capture_spans() as exporter:
        read(1)
        read(1)
        invalidate("spans:*")
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ["cache.miss", "cache.hit", "cache.invalidate"]
    hit = exporter.get_finished_spans()[1]
    assert dict(hit.attributes or {}) == {
        "key": read.cache_key(1),
        "alias": "shared",
    }


@pytest.mark.django_db(transaction=True)
def test_cache_invalidate_inside_transaction_repeats_after_commit() -> None:
    source = Source()

    @cached(key_prefix="txn:")
    def read(user_id: int) -> str:
        return source.read(user_id)

    @cache_invalidate("txn:*")
    def write() -> None:
        return None

    with transaction.atomic():
        write()
        read(1)  # a reader re-caches the pre-commit state inside the transaction
    source.value = "v2"
    assert read(1) == "v2:1"


def test_dummy_cache_always_computes() -> None:
    config = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    source = Source()
    with override_settings(CACHES=config):

        @cached(key_prefix="dummy:")
        def read(user_id: int) -> str:
            return source.read(user_id)

        read(1)
        read(1)
        invalidate("dummy:*")
    assert source.calls == 2


def test_key_uses_prefix_function_and_values() -> None:
    @cached(key_prefix="orders:", vary_on=["user_id"])
    def get_user_orders(user_id: int) -> list:
        return []

    qualname = "test_key_uses_prefix_function_and_values.<locals>.get_user_orders"
    module = "tests.toolkit.patterns.test_cache"
    assert get_user_orders.cache_key(user_id=42) == f"orders:{module}.{qualname}:42"
    assert get_user_orders.cache_key("x y").startswith(f"orders:{module}.{qualname}:#")


def test_default_namespace_is_the_function() -> None:
    @cached()
    def plain(a: int) -> int:
        return a

    assert plain.namespaces == (f"tests.toolkit.patterns.test_cache.{plain.__qualname__}:",)


def test_namespaces_of_splits_on_colons() -> None:
    assert namespaces_of("orders:user:") == ("orders:", "orders:user:")
    assert namespaces_of("orders") == ("orders",)
    assert namespaces_of("a:b") == ("a:", "a:b")


@pytest.mark.parametrize(
    "pattern", ["orders:", "*", "ord*ers:*", 5], ids=["no-star", "bare-star", "inner-star", "int"]
)
def test_bad_patterns_are_rejected(pattern) -> None:
    message = f"Cannot invalidate {pattern!r}: use a key prefix followed by '*', e.g. 'orders:*'"
    with pytest.raises(ValidationError) as excinfo:
        invalidate(pattern)
    assert str(excinfo.value) == message
    with pytest.raises(ValidationError):
        cache_invalidate(pattern)


def test_unknown_vary_on_name_lists_parameters() -> None:
    with pytest.raises(ValidationError) as excinfo:

        @cached(vary_on=["usr_id"])
        def get_user_orders(user_id: int, page: int = 1) -> list:
            return []

    assert str(excinfo.value) == (
        "vary_on names 'usr_id', which "
        "test_unknown_vary_on_name_lists_parameters.<locals>.get_user_orders() does not take; "
        "its parameters are: 'user_id', 'page'"
    )


@pytest.mark.parametrize("ttl", [0, -5, "60", True], ids=["zero", "negative", "str", "bool"])
def test_bad_ttl_is_rejected(ttl) -> None:
    with pytest.raises(ValidationError, match="ttl must be a positive number of seconds"):
        cached(ttl=ttl)


def test_unkeyable_argument_names_it_and_caches_nothing() -> None:
    calls = []

    @cached(key_prefix="bad:")
    def read(user) -> int:
        calls.append(user)
        return 1

    with pytest.raises(ValidationError, match="from argument 'user' = <object object at"):
        read(object())
    assert calls == []


@pytest.mark.parametrize("server", [pytest.param("redis", marks=pytest.mark.redis), "memcached"])
def test_invalidation_in_another_process_is_seen(server, request) -> None:
    prefix = f"tk-more-xproc-{uuid.uuid4().hex[:8]}"
    if server == "redis":
        shared = redis_caches(request.getfixturevalue("redis_url"), prefix)["shared"]
        shared["BACKEND"] = "django.core.cache.backends.redis.RedisCache"
    else:
        shared = {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": request.getfixturevalue("memcached_location"),
            "KEY_PREFIX": prefix,
        }
    config = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    config["shared"] = shared
    source = Source()
    with override_settings(CACHES=config, TOOLKIT={"patterns": {"cache_backend": "shared"}}):

        @cached(key_prefix="orders:")
        def get_user_orders(user_id: int) -> str:
            return source.read(user_id)

        assert get_user_orders(7) == "v1:7"
        source.value = "v2"
        assert get_user_orders(7) == "v1:7"
        script = textwrap.dedent(
            f"""
            import django
            from django.conf import settings
            settings.configure(CACHES={{"default": {shared!r}}})
            django.setup()
            from toolkit.patterns.cache import invalidate
            invalidate("orders:*")
            print("invalidated")
            """
        )
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "invalidated"
        assert get_user_orders(7) == "v2:7"
        assert source.calls == 2
    if server == "redis":
        delete_redis_keys(shared["LOCATION"], prefix)


def test_system_check_rejects_an_unknown_cache_alias_listing_the_aliases() -> None:
    from toolkit.checks import check_cache_backend

    config = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    with override_settings(CACHES=config, TOOLKIT={"patterns": {"cache_backend": "shraed"}}):
        (error,) = check_cache_backend()
    assert error.id == "toolkit.E003"
    assert error.msg == (
        "TOOLKIT['patterns']['cache_backend'] is 'shraed', which is not a cache alias; "
        "valid choices are: 'default', 'shared'."
    )
    with override_settings(CACHES=config, TOOLKIT={"patterns": {"cache_backend": "shared"}}):
        assert check_cache_backend() == []


def test_docs_page_examples_run() -> None:
    config = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"docs-{uuid.uuid4().hex}",
        }
    }
    with override_settings(CACHES=config):
        run_page("cache.md")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["filebased", "database"])
def test_invalidation_on_file_and_database_backends(kind, tmp_path) -> None:
    if kind == "filebased":
        backend = {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    else:
        backend = {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "toolkit_more_cache_table",
        }
    config = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, "x": backend}
    source = Source()
    with override_settings(CACHES=config, TOOLKIT={"patterns": {"cache_backend": "x"}}):
        if kind == "database":
            from django.core.management import call_command

            call_command("createcachetable", "toolkit_more_cache_table", verbosity=0)

        @cached(key_prefix="orders:")
        def read(user_id: int) -> str:
            return source.read(user_id)

        assert read(1) == "v1:1"
        source.value = "v2"
        assert read(1) == "v1:1"
        invalidate("orders:*")
        assert read(1) == "v2:1"
        assert source.calls == 2
