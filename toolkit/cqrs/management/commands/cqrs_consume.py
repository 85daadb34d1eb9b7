"""``manage.py cqrs_consume``: run the replica consumer, in this process or in worker processes.

django-cqrs 3.1.0's arguments: ``--workers/-w``, ``--cqrs-id/-cid``, ``--reload/-r``,
``--ignore-paths``, ``--sigint-timeout``, ``--sigkill-timeout``. The transport is called as
django-cqrs calls it, ``consume()`` or ``consume(cqrs_ids={...})``; the toolkit's own transports
also accept ``stop``, ``max_messages`` and ``on_connected``, which are passed only to a
``consume`` that names them, so a transport written for django-cqrs works unchanged.
"""

from __future__ import annotations

import inspect
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from toolkit.cqrs.management import at_least_one
from toolkit.cqrs.transport import get_transport
from toolkit.cqrs.transport.inprocess import InProcessTransport

#: Directories never watched by ``--reload`` (as watchfiles' default filter, which
#: django-cqrs uses, skips them).
IGNORED_DIRS = frozenset(
    {
        "__pycache__",
        ".git",
        ".hg",
        ".svn",
        ".tox",
        ".venv",
        ".idea",
        "node_modules",
        ".mypy_cache",
        ".pytest_cache",
        ".hypothesis",
        "site-packages",
    }
)
WATCHED_SUFFIXES = (".py", ".pyx", ".pyd")


def _worker(options: dict[str, Any]) -> None:
    """A worker process (started by ``spawn``): set Django up, then consume in the foreground."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("cqrs_consume", **options)


class PythonFiles:
    """The modification times of the Python files under ``root``: what ``--reload`` polls."""

    def __init__(self, root: Path, ignore_paths: Iterable[Path] = ()) -> None:
        self.root = root
        self.ignore = [p.resolve() for p in ignore_paths]
        self.seen = self.snapshot()

    def snapshot(self) -> dict[Path, int]:
        found: dict[Path, int] = {}
        for directory, dirs, files in os.walk(self.root):
            here = Path(directory)
            dirs[:] = [
                d for d in dirs if d not in IGNORED_DIRS and (here / d).resolve() not in self.ignore
            ]
            for name in files:
                path = here / name
                if name.endswith(WATCHED_SUFFIXES) and path.resolve() not in self.ignore:
                    try:
                        found[path] = path.stat().st_mtime_ns
                    except OSError:  # removed meanwhile
                        continue
        return found

    def changes(self) -> list[Path]:
        """The files added, changed or removed since the last call, sorted."""
        now = self.snapshot()
        changed = sorted(
            path for path in now.keys() | self.seen.keys() if now.get(path) != self.seen.get(path)
        )
        self.seen = now
        return changed


def _display(path: Path) -> str:
    try:
        return f'"{path.relative_to(Path.cwd())}"'
    except ValueError:
        return f'"{path}"'


class WorkersManager:
    """django-cqrs' ``WorkersManager``: ``workers`` consumer processes, restarted on SIGHUP and,
    with ``reload``, when a Python file under the current directory changes.

    SIGINT or SIGTERM stops the workers (SIGINT, then SIGKILL after ``sigint_timeout`` s) and
    returns 0, as does the end of every worker (``--max-messages``). A worker that exits with
    another code (killed, crashed) stops the others and the manager returns 1.
    """

    poll_interval = 1.0

    def __init__(
        self,
        worker_options: dict[str, Any],
        stdout: OutputWrapper,
        *,
        workers: int = 1,
        reload: bool = False,
        ignore_paths: Iterable[Path] = (),
        sigint_timeout: int = 5,
        sigkill_timeout: int = 1,
    ) -> None:
        self.worker_options = worker_options
        self.stdout = stdout
        self.workers = workers
        self.reload = reload
        self.sigint_timeout = sigint_timeout
        self.sigkill_timeout = sigkill_timeout
        self.pool: list[multiprocessing.process.BaseProcess] = []
        self.stop_event = threading.Event()
        self.restart_requested = threading.Event()
        self.files = PythonFiles(Path.cwd(), ignore_paths) if reload else None
        self.context = multiprocessing.get_context("spawn")

    def run(self) -> int:
        handlers = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        if self.reload:
            handlers[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._hup)
        try:
            self.start()
            return self._supervise()
        finally:
            self.terminate()
            for sig, handler in handlers.items():
                signal.signal(sig, handler)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_event.set()

    def _hup(self, signum: int, frame: FrameType | None) -> None:
        self.restart_requested.set()

    def _supervise(self) -> int:
        next_poll = time.monotonic() + self.poll_interval
        while not self.stop_event.wait(0.2):
            for process in self.pool:
                if not process.is_alive() and process.exitcode != 0:
                    self.stdout.write(
                        f"Consumer process with pid {process.pid} exited with code "
                        f"{process.exitcode}; stopping the others."
                    )
                    return 1
            if not any(process.is_alive() for process in self.pool):
                return 0  # every worker finished (--max-messages)
            if self.restart_requested.is_set():
                self.restart_requested.clear()
                self.stdout.write("Received SIGHUP. Reloading...")
                self.restart()
            if self.files is not None and time.monotonic() >= next_poll:
                changed = self.files.changes()
                if changed:
                    self.stdout.write(
                        f"Detected changes in {', '.join(map(_display, changed))}. Reloading..."
                    )
                    self.restart()
                next_poll = time.monotonic() + self.poll_interval
        return 0

    def start(self) -> None:
        for _ in range(self.workers):
            process = self.context.Process(target=_worker, args=(self.worker_options,))
            process.start()
            self.pool.append(process)
            self.stdout.write(f"Consumer process with pid {process.pid} started")

    def terminate(self) -> None:
        while self.pool:
            process = self.pool.pop()
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGINT)
                process.join(self.sigint_timeout)
                if process.is_alive():
                    process.kill()
                    process.join(self.sigkill_timeout)
            self.stdout.write(f"Consumer process with pid {process.pid} stopped.")

    def restart(self) -> None:
        self.terminate()
        self.start()


class Command(BaseCommand):
    help = "Starts CQRS worker, which consumes messages from message queue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", "-w", help="Number of workers", type=int, default=1)
        parser.add_argument(
            "--cqrs-id",
            "-cid",
            action="extend",
            nargs="*",
            type=str,
            help="Choose model(s) by CQRS_ID for consuming ('-cid a b', or repeat the option)",
        )
        parser.add_argument(
            "--reload",
            "-r",
            help="Enable reload signal SIGHUP and autoreload on file changes",
            action="store_true",
            default=False,
        )
        parser.add_argument(
            "--ignore-paths",
            nargs="?",
            type=str,
            help=(
                "Specify directories to ignore, to ignore multiple paths use a comma as "
                'separator, e.g. "env" or "env,node_modules"'
            ),
        )
        parser.add_argument(
            "--sigint-timeout",
            nargs="?",
            type=int,
            default=5,
            help="How long to wait for the sigint timeout before sending sigkill.",
        )
        parser.add_argument(
            "--sigkill-timeout",
            nargs="?",
            type=int,
            default=1,
            help="How long to wait for the sigkill timeout before issuing a timeout exception.",
        )
        parser.add_argument(
            "--max-messages",
            type=int,
            default=None,
            help="Stop after handling this many messages (the toolkit's transports).",
        )

    def handle(
        self,
        *args: Any,
        workers: int = 1,
        cqrs_id: list[str] | None = None,
        reload: bool = False,
        ignore_paths: str | None = None,
        sigint_timeout: int = 5,
        sigkill_timeout: int = 1,
        max_messages: int | None = None,
        **options: Any,
    ) -> None:
        transport = get_transport()
        if issubclass(transport, InProcessTransport):
            raise CommandError(
                "The in-process transport delivers messages inside the producing process; "
                "set TOOLKIT['cqrs']['transport'] to "
                "'toolkit.cqrs.transport.kombu.KombuTransport' to run a consumer."
            )
        at_least_one("--workers", workers)
        consume_kwargs = self.get_consume_kwargs(cqrs_id)
        accepted = inspect.signature(transport.consume).parameters
        if max_messages is not None and "max_messages" not in accepted:
            raise CommandError(
                f"--max-messages needs a transport whose consume() accepts max_messages; "
                f"{transport.__module__}.{transport.__qualname__}.consume() does not"
            )
        if workers == 1 and not reload:
            self.consume_here(transport, consume_kwargs, accepted, max_messages)
            return
        worker_options: dict[str, Any] = {"cqrs_id": cqrs_id, "max_messages": max_messages}
        manager = WorkersManager(
            worker_options,
            self.stdout,
            workers=workers,
            reload=reload,
            ignore_paths=[Path(p) for p in ignore_paths.split(",")] if ignore_paths else (),
            sigint_timeout=sigint_timeout,
            sigkill_timeout=sigkill_timeout,
        )
        if manager.run():
            raise CommandError("A consumer process exited; the consumer stopped.")

    def get_consume_kwargs(self, ids_list: list[str] | None) -> dict[str, Any]:
        """django-cqrs' consume arguments: ``{"cqrs_ids": {...}}``, or none for every id."""
        from toolkit.cqrs.registries import ReplicaRegistry

        consume_kwargs: dict[str, Any] = {}
        if ids_list:
            for one in ids_list:
                if not ReplicaRegistry.get_model_by_cqrs_id(one):
                    raise CommandError(f"Wrong CQRS ID: {one}!")
            consume_kwargs["cqrs_ids"] = set(ids_list)
        return consume_kwargs

    def consume_here(
        self,
        transport: Any,
        consume_kwargs: dict[str, Any],
        accepted: Any,
        max_messages: int | None,
    ) -> None:
        """Consume in this process until SIGTERM/SIGINT (or ``max_messages``)."""
        stop = threading.Event()
        graceful = "stop" in accepted

        def request_stop(signum: int, frame: FrameType | None) -> None:
            self.stdout.write(f"Received {signal.Signals(signum).name}; stopping.")
            if not graceful:  # a django-cqrs transport is stopped as django-cqrs stops it
                raise KeyboardInterrupt
            stop.set()

        kwargs = dict(consume_kwargs)
        extras = {
            "stop": stop,
            "max_messages": max_messages,
            "on_connected": lambda: self.stdout.write("Consumer connected.", ending="\n"),
        }
        kwargs.update({name: value for name, value in extras.items() if name in accepted})
        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        handled = None
        try:
            handled = transport.consume(**kwargs)
        except KeyboardInterrupt:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            try:
                transport.clean_connection()
            except NotImplementedError:  # django-cqrs' BaseTransport default
                pass
        if isinstance(handled, int):
            self.stdout.write(f"Consumer stopped after {handled} message(s).")
        else:
            self.stdout.write("Consumer stopped.")
