"""lazy: once per instance, thread-safe, reset, ttl, plain attribute reads after the first."""

from __future__ import annotations

import sys
import threading
import time
from types import SimpleNamespace

import pytest

from tests.toolkit.patterns.docs_examples import run_page
from toolkit.patterns.lazy import lazy


class Counter:
    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def make(self) -> object:
        with self.lock:
            self.calls += 1
        return object()


def test_factory_called_once_per_instance() -> None:
    counter = Counter()

    class Service:
        client = lazy(counter.make)

    first, second = Service(), Service()
    assert first.client is first.client
    assert second.client is not first.client
    assert counter.calls == 2


def test_value_is_stored_in_instance_dict_so_reads_bypass_the_descriptor() -> None:
    class Service:
        client = lazy(lambda: "value")

    svc = Service()
    assert svc.client == "value"
    assert svc.__dict__["client"] == "value"


def test_reset_calls_factory_again() -> None:
    counter = Counter()

    class Service:
        client = lazy(counter.make)

    svc = Service()
    first = svc.client
    Service.client.reset(svc)
    assert Service.client.is_loaded(svc) is False
    assert svc.client is not first
    assert counter.calls == 2


def test_factory_may_take_the_instance() -> None:
    class Service:
        url = "http://example"
        client = lazy(lambda self: f"client for {self.url}")

    assert Service().client == "client for http://example"


def test_concurrent_first_reads_call_factory_at_most_once() -> None:
    counter = Counter()

    def slow() -> object:
        time.sleep(0.05)
        return counter.make()

    class Service:
        client = lazy(slow)

    svc = Service()
    barrier = threading.Barrier(8)
    seen: list[object] = []

    def read() -> None:
        barrier.wait()
        seen.append(svc.client)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.calls == 1
    assert len({id(value) for value in seen}) == 1


def test_ttl_reinitialises_after_expiry(monkeypatch) -> None:
    now = [1000.0]
    # ``toolkit.patterns.lazy`` the attribute is the descriptor class; patch the module.
    module = sys.modules["toolkit.patterns.lazy"]
    monkeypatch.setattr(module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    counter = Counter()

    class Service:
        config = lazy(counter.make, ttl=60.0)

    svc = Service()
    first = svc.config
    now[0] += 59.0
    assert svc.config is first
    now[0] += 2.0
    assert svc.config is not first
    assert counter.calls == 2


def test_ttl_reset_forgets_value() -> None:
    counter = Counter()

    class Service:
        config = lazy(counter.make, ttl=60.0)

    svc = Service()
    first = svc.config
    Service.config.reset(svc)
    assert svc.config is not first


def test_factory_error_is_not_cached() -> None:
    attempts = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("down")
        return "up"

    class Service:
        client = lazy(flaky)

    svc = Service()
    with pytest.raises(ConnectionError):
        svc.client
    assert svc.client == "up"


def test_class_access_returns_descriptor() -> None:
    class Service:
        client = lazy(lambda: 1, ttl=5)

    assert isinstance(Service.client, lazy)
    assert repr(Service.client).endswith(", ttl=5)")


@pytest.mark.parametrize("ttl", [0, -1, True], ids=["zero", "negative", "bool"])
def test_bad_ttl_is_rejected(ttl) -> None:
    with pytest.raises(ValueError, match=f"ttl must be a positive number of seconds, not {ttl!r}"):
        lazy(lambda: 1, ttl=ttl)


def test_non_callable_factory_is_rejected() -> None:
    with pytest.raises(TypeError, match="lazy\\(\\) needs a callable factory, not 3"):
        lazy(3)  # type: ignore[arg-type]


def test_slots_without_dict_names_the_class() -> None:
    class Slotted:
        __slots__ = ()
        client = lazy(lambda: 1)

    with pytest.raises(TypeError, match="Slotted uses __slots__ without '__dict__'"):
        Slotted().client


def test_docs_page_examples_run() -> None:
    run_page("lazy.md")


def test_concurrent_reads_after_ttl_expiry_rebuild_once(monkeypatch) -> None:
    now = [0.0]
    module = sys.modules["toolkit.patterns.lazy"]
    monkeypatch.setattr(module, "time", SimpleNamespace(monotonic=lambda: now[0]))
    counter = Counter()

    def slow() -> object:
        time.sleep(0.05)
        return counter.make()

    class Service:
        config = lazy(slow, ttl=10.0)

    svc = Service()
    svc.config
    now[0] = 11.0  # expired
    barrier = threading.Barrier(6)
    seen: list[object] = []

    def read() -> None:
        barrier.wait()
        seen.append(svc.config)

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.calls == 2
    assert len({id(value) for value in seen}) == 1
