"""``cqrs_consume --workers N`` / ``--reload`` / a django-cqrs-style transport, as real
processes: workers start and stop with the manager, a killed worker stops the consumer
(exit code 1), file changes and SIGHUP restart the workers, and a transport written for
django-cqrs is called with django-cqrs' arguments only."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests import services
from tests.toolkit.cqrs.processes import Consumer

DJSTYLE = "tests.toolkit.cqrs.djstyle_transport.DjangoCqrsStyleTransport"
STARTED = re.compile(r"^Consumer process with pid (\d+) started$")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[1])


@pytest.fixture
def consumers():
    services.require_redis()
    made: list[Consumer] = []

    def start(*args: str, **kwargs) -> Consumer:
        made.append(Consumer(*args, **kwargs))
        return made[-1]

    yield start
    for consumer in made:
        consumer.close()


@pytest.mark.redis
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_workers_run_as_child_processes_and_stop_with_the_manager(consumers, signum):
    consumer = consumers("--workers", "2", "-cid", "product")
    pids = {int(m.group(1)) for m in consumer.wait_for(STARTED.pattern, count=2)}
    consumer.wait_for(r"^Consumer connected\.$", count=2)
    assert len(pids) == 2
    assert {pid: (_alive(pid), _parent(pid)) for pid in pids} == {
        pid: (True, consumer.process.pid) for pid in pids
    }
    consumer.process.send_signal(signum)
    code, out, err = consumer.finish()
    assert code == 0, err
    for pid in pids:
        assert f"Consumer process with pid {pid} stopped." in out
        assert not _alive(pid)
    # Each worker stopped gracefully (it was sent SIGINT) and reported its count.
    assert out.count("Received SIGINT; stopping.") == 2
    assert out.count("Consumer stopped after 0 message(s).") == 2


@pytest.mark.redis
def test_a_killed_worker_stops_the_consumer_with_exit_code_1(consumers):
    consumer = consumers("-w", "2")
    pids = [int(m.group(1)) for m in consumer.wait_for(STARTED.pattern, count=2)]
    consumer.wait_for(r"^Consumer connected\.$", count=2)
    os.kill(pids[0], signal.SIGKILL)
    code, out, err = consumer.finish()
    assert code == 1
    assert f"Consumer process with pid {pids[0]} exited with code -9; stopping the others." in (
        "\n".join(consumer.seen) + "\n" + out
    )
    assert err.strip().endswith("CommandError: A consumer process exited; the consumer stopped.")
    assert not _alive(pids[1])


@pytest.mark.redis
def test_reload_restarts_the_workers_on_file_changes_and_sighup(consumers, tmp_path):
    watched = tmp_path / "watched.py"
    watched.write_text("VALUE = 1\n")
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "other.py").write_text("VALUE = 1\n")
    (tmp_path / "notes.txt").write_text("not Python\n")
    consumer = consumers("--reload", "--ignore-paths", "ignored", cwd=tmp_path)
    [first] = consumer.wait_for(STARTED.pattern)
    consumer.wait_for(r"^Consumer connected\.$")
    (tmp_path / "ignored" / "other.py").write_text("VALUE = 2\n")
    (tmp_path / "notes.txt").write_text("changed\n")
    time.sleep(2.5)  # two polls: neither change restarts anything
    watched.write_text("VALUE = 2\n")
    consumer.wait_for(r'^Detected changes in "watched.py"\. Reloading\.\.\.$')
    consumer.wait_for(rf"^Consumer process with pid {first.group(1)} stopped\.$")
    [second] = consumer.wait_for(STARTED.pattern)
    consumer.wait_for(r"^Consumer connected\.$")
    assert second.group(1) != first.group(1) and not _alive(int(first.group(1)))
    consumer.process.send_signal(signal.SIGHUP)
    consumer.wait_for(r"^Received SIGHUP\. Reloading\.\.\.$")
    [third] = consumer.wait_for(STARTED.pattern)
    assert third.group(1) not in {first.group(1), second.group(1)}
    consumer.wait_for(r"^Consumer connected\.$")
    consumer.process.send_signal(signal.SIGINT)
    code, out, err = consumer.finish()
    assert code == 0, err
    assert f"Consumer process with pid {third.group(1)} stopped." in out
    # Before the change, nothing was reloaded.
    assert sum("Reloading" in line for line in consumer.seen) == 2


@pytest.mark.redis
@pytest.mark.parametrize(
    ("args", "called"),
    [((), "consume(cqrs_ids=None)"), (("-cid", "product"), "consume(cqrs_ids=['product'])")],
)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_a_django_cqrs_style_transport_gets_django_cqrs_arguments_only(
    consumers, args, called, signum
):
    consumer = consumers(*args, transport=DJSTYLE)
    consumer.wait_for(rf"^{re.escape(called)}$")
    consumer.process.send_signal(signum)
    code, out, err = consumer.finish()
    assert code == 0, err
    assert out == f"Received {signal.Signals(signum).name}; stopping.\nConsumer stopped."


@pytest.mark.redis
def test_a_django_cqrs_style_transport_runs_in_workers(consumers):
    consumer = consumers("--workers", "2", transport=DJSTYLE)
    consumer.wait_for(r"^consume\(cqrs_ids=None\)$", count=2)
    consumer.process.send_signal(signal.SIGTERM)
    code, out, err = consumer.finish()
    assert (code, out.count("Consumer stopped.")) == (0, 2), err


@pytest.mark.redis
def test_max_messages_needs_a_transport_that_accepts_it(consumers):
    code, _, err = consumers("--max-messages", "1", transport=DJSTYLE).finish()
    assert code == 1
    assert (
        "CommandError: --max-messages needs a transport whose consume() accepts max_messages; "
        f"{DJSTYLE}.consume() does not"
    ) in err


@pytest.mark.redis
def test_workers_must_be_positive_and_ids_known(consumers):
    code, _, err = consumers("--workers", "0").finish()
    assert (code, err.strip().splitlines()[-1]) == (
        1,
        "CommandError: --workers must be >= 1, not 0",
    )
    code, _, err = consumers("-cid", "product", "nope").finish()
    assert (code, err.strip().splitlines()[-1]) == (1, "CommandError: Wrong CQRS ID: nope!")
