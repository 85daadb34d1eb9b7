"""``run_projections --supervise``: restart a stalled worker, up to a limit (Django adapter).

The supervisor runs the very same command line again as a child process (marked by the
:data:`CHILD_MARKER` environment variable, with its own ``--worker-id``) and watches it. The
child is **stalled** when one of its heartbeats is older than ``projection_stalled_after``
(its loop is stuck, typically in a handler that never returns) or when a projection it holds
segments of reports no progress for that long while events wait. The supervisor then stops the
child (SIGTERM, SIGKILL after a grace period), gives its segments back at once (the child's
transactions died with its connection), counts a restart on the projections' checkpoints and
starts a new child. After ``max_restarts`` restarts it marks the projections ``stalled`` and
gives up, exiting non-zero so the process manager above it notices. A child that exits on
its own with status 0 ends the supervisor; any other exit counts as a restart.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from typing import Any

from toolkit.eventsourcing.config import es_settings
from toolkit.eventsourcing.projections.runner import database

#: Set in the child's environment: run the worker loop, not another supervisor.
CHILD_MARKER = "TOOLKIT_PROJECTIONS_CHILD"
#: Seconds a child gets to stop after SIGTERM before SIGKILL.
GRACE_SECONDS = 5.0
#: Seconds a new child gets to send its first heartbeat (Django starts slowly on a busy host).
STARTUP_SECONDS = 60.0


class Supervisor:
    """Runs one ``run_projections`` child for ``names`` and restarts it when it stalls."""

    def __init__(self, names: list[str], *, max_restarts: int | None, out: Any) -> None:
        settings = es_settings()
        self.names = names
        self.max_restarts = (
            int(settings["projection_max_restarts"]) if max_restarts is None else max_restarts
        )
        self.stalled_after = float(settings["projection_stalled_after"])
        self.out = out
        self.restarts = 0
        self.stopping = False
        self.gave_up = ""
        self.prefix = f"supervised-{uuid.uuid4().hex[:8]}"

    def _start(self) -> subprocess.Popen[bytes]:
        worker = f"{self.prefix}-{self.restarts}"
        argv = [sys.executable, *sys.orig_argv[1:], "--worker-id", worker]
        env = {**os.environ, CHILD_MARKER: "1"}
        self.worker = worker
        self.started = time.monotonic()
        self.out.write(f"supervisor: started worker {worker}")
        return subprocess.Popen(argv, env=env)

    def run(self) -> bool:
        """Supervise until SIGTERM/SIGINT (True) or until the restarts run out (False)."""

        def stop(signum: int, frame: Any) -> None:
            self.stopping = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        child = self._start()
        try:
            while not self.stopping:
                time.sleep(0.5)
                code = child.poll()
                if code == 0:
                    return True
                reason = f"exited with {code}" if code is not None else self._stalled()
                if not reason:
                    continue
                self._stop(child)
                self._release()
                if self.restarts >= self.max_restarts:
                    self.gave_up = (
                        f"worker {self.worker} {reason}; gave up after {self.restarts} "
                        f"restart(s) (max {self.max_restarts})"
                    )
                    self._mark("stalled")
                    self.out.write(f"supervisor: {self.gave_up}")
                    return False
                self.restarts += 1
                self._mark(None)
                self.out.write(f"supervisor: worker {self.worker} {reason}; restarting")
                child = self._start()
            return True
        finally:
            if child.poll() is None:
                self._stop(child)
                self._release()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stalled(self) -> str:
        """Why the child counts as stalled ("" while it is fine)."""
        from django.utils import timezone

        from toolkit.eventsourcing.projections.health import projection_status
        from toolkit.models import ProjectionWorker

        limit = timezone.now() - timedelta(seconds=self.stalled_after)
        beats = ProjectionWorker.objects.using(database()).filter(
            worker__startswith=f"{self.worker}:"
        )
        if not beats.exists():
            if time.monotonic() - self.started < STARTUP_SECONDS:
                return ""  # still starting
            return f"did not start within {STARTUP_SECONDS:g}s"
        if beats.filter(heartbeat_at__lt=limit).exists():
            return f"sent no heartbeat for {self.stalled_after:g}s"
        for name in self.names:
            status = projection_status(name)
            if status.stalled and any(
                s.owner.startswith(f"{self.worker}:") for s in status.segments
            ):
                return f"made no progress on {name} for {self.stalled_after:g}s"
        return ""

    def _stop(self, child: subprocess.Popen[bytes]) -> None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(GRACE_SECONDS)

    def _release(self) -> None:
        """Give the dead child's segments back now instead of after their lease."""
        from toolkit.models import ProjectionSegment, ProjectionWorker

        db = database()
        ProjectionSegment.objects.using(db).filter(owner__startswith=f"{self.worker}:").update(
            owner="", lease_expires_at=None
        )
        ProjectionWorker.objects.using(db).filter(worker__startswith=f"{self.worker}:").delete()

    def _mark(self, status: str | None) -> None:
        from django.db.models import F
        from django.utils import timezone

        from toolkit.models import ProjectionCheckpoint

        changes: dict[str, Any] = {"updated_at": timezone.now()}
        if status is None:
            changes["restarts"] = F("restarts") + 1
        else:
            changes["status"] = status
        ProjectionCheckpoint.objects.using(database()).filter(name__in=self.names).update(**changes)
