"""``manage.py cqrs_consume`` as a real process, its standard output read line by line."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import kombu
import redis

from tests import services

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = services.REDIS_URL


class Consumer:
    """``manage.py cqrs_consume ARGS`` in a subprocess, its stdout read line by line."""

    def __init__(self, *args: str, cwd: Path = ROOT, transport: str | None = None) -> None:
        self.name = f"cqrs_test_{uuid.uuid4().hex[:10]}"
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
            "CQRS_TEST_BROKER_URL": REDIS_URL,
            "CQRS_TEST_NAME": self.name,
        }
        if transport:
            env["CQRS_TEST_TRANSPORT"] = transport
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "cqrs_consume",
                "--settings",
                "tests.toolkit.cqrs.consume_settings",
                *args,
            ],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 60) -> list[re.Match]:
        """Read lines until ``count`` of them match ``pattern``; return the matches."""
        found: list[re.Match] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {pattern!r} after {self.seen}") from None
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                found.append(match)
        return found

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        """Wait for the exit; return (exit code, the rest of stdout, stderr)."""
        self.process.wait(timeout=timeout)
        self.reader.join(timeout)
        assert self.process.stderr is not None
        err = self.process.stderr.read()
        rest = []
        while not self.lines.empty():
            rest.append(self.lines.get())
        return self.process.returncode, "\n".join(rest), err

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        with kombu.Connection(REDIS_URL) as connection:
            kombu.Queue(self.name)(connection.channel()).delete()
        client = redis.Redis.from_url(REDIS_URL)
        for key in list(client.scan_iter(match=f"*{self.name}*")):
            client.delete(key)
