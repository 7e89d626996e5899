"""Re-ingest jobs run in the background of a serving process: one at a time, at most one waiting.

The web layer asks for a re-ingest (admin button, GitHub webhook, polling); the job pulls git sources
and runs the incremental pipeline; the Assistant notices the new catalog version on its next query
and switches to it whole. Across processes and hosts the pipeline's own lock keeps to one writer.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import AssistantError, is_disk_full

log = logging.getLogger("jobs")


@dataclass
class Job:
    id: str
    reason: str
    state: str = "queued"  # queued → running → done | failed
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    report: dict | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "reason": self.reason, "state": self.state, "created": self.created,
                "started": self.started, "finished": self.finished, "report": self.report, "error": self.error}


class IngestJobs:
    """`run` is the work of one job (returns a report dict); it runs on one worker thread."""

    def __init__(self, run: Callable[[], dict], keep: int = 50, disk: Path | None = None) -> None:
        self._run = run
        self._disk = disk  # the index folder: a failure while its disk is full says so
        self._keep = keep
        self._jobs: dict[str, Job] = {}
        self._queue: list[Job] = []
        self._running: Job | None = None
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._worker = threading.Thread(target=self._loop, name="ingest-jobs", daemon=True)
        self._worker.start()

    def submit(self, reason: str) -> tuple[Job, bool]:
        """A new job, or the one already waiting (second value False): at most one runs, one waits."""
        with self._lock:
            if self._queue:
                return self._queue[0], False
            job = Job(id=uuid.uuid4().hex[:12], reason=reason)
            self._jobs[job.id] = job
            self._queue.append(job)
            self._trim()
            self._wake.notify()
            return job, True

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    @property
    def running(self) -> Job | None:
        return self._running

    def latest(self) -> Job | None:
        with self._lock:
            return max(self._jobs.values(), key=lambda j: j.created, default=None)

    def wait(self, job_id: str, timeout: float) -> Job | None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.get(job_id)
            if job is None or job.state in ("done", "failed"):
                return job
            time.sleep(0.05)
        return self.get(job_id)

    def _trim(self) -> None:
        finished = sorted((j for j in self._jobs.values() if j.state in ("done", "failed")), key=lambda j: j.created)
        for job in finished[: max(0, len(self._jobs) - self._keep)]:
            del self._jobs[job.id]

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue:
                    self._wake.wait()
                job = self._queue.pop(0)
                self._running = job
                job.state, job.started = "running", time.time()
            try:
                job.report = self._run()
                job.state = "done"
            except Exception as exc:  # noqa: BLE001 - a job must never kill the worker
                if is_disk_full(exc, self._disk):
                    job.state, job.error = "failed", f"disken er fuld: frigør plads og genindlæs igen ({exc})"
                    log.error("re-ingest %s failed: the disk is full (%s)", job.id, exc)
                elif isinstance(exc, AssistantError):
                    job.state, job.error = "failed", str(exc)
                    log.warning("re-ingest %s failed: %s", job.id, exc)
                else:
                    job.state, job.error = "failed", f"unexpected error: {exc}"
                    log.exception("re-ingest %s failed", job.id)
            finally:
                job.finished = time.time()
                with self._lock:
                    self._running = None


class Poller:
    """Submits a re-ingest every `interval` seconds (for sites that cannot send webhooks)."""

    def __init__(self, jobs: IngestJobs, interval: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(jobs, interval), name="ingest-poller", daemon=True)
        self._thread.start()

    def _loop(self, jobs: IngestJobs, interval: float) -> None:
        while not self._stop.wait(interval):
            jobs.submit("polling")

    def stop(self) -> None:
        self._stop.set()
