"""The Flink cluster as deployments and upgrades use it: prepare a job's topics, start a job
version from its plan, stop a job with a savepoint, watch a job become healthy.

`LiveCluster` is the stack's standalone cluster (its REST API and `flink run`, as the
operator drives a cluster on Kubernetes); the unit tests use a fake.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from flink_jobs import pipeline, savepoints, submit
from flink_jobs.errors import UserError
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import Settings

TERMINAL = ("FAILED", "CANCELED", "FINISHED", "SUSPENDED")


@dataclass(frozen=True)
class Health:
    state: str
    tasks: int
    tasks_running: int
    checkpoints: int  # completed by this job (the savepoint it restored does not count)
    failure: str = ""  # the latest exception, if any

    @property
    def healthy(self) -> bool:
        """RUNNING, every task running, and a checkpoint completed since the start."""
        running = self.state == "RUNNING" and 0 < self.tasks == self.tasks_running
        return running and self.checkpoints > 0

    def describe(self) -> str:
        failure = f"; latest failure: {self.failure}" if self.failure else ""
        return (
            f"{self.state}, {self.tasks_running}/{self.tasks} tasks running, "
            f"{self.checkpoints} checkpoints completed{failure}"
        )


class Cluster(Protocol):
    def active_job(self, name: str) -> str | None: ...

    def flink_version(self) -> str: ...

    def prepare(self, config: JobConfig, say: Callable[[str], None]) -> None:
        """The job's topics and schema subjects (Kafka and the registry beside the cluster)."""

    def start(self, config: JobConfig, plan: Path, savepoint: str | None) -> str:
        """Submit the job from its plan (restoring `savepoint`); its id. UserError if not."""

    def stop_with_savepoint(self, job_id: str) -> str:
        """Stop the job with a savepoint, never draining it; the savepoint's location."""

    def health(self, job_id: str) -> Health: ...

    def cancel(self, job_id: str) -> None:
        """Cancel the job and return once it is no longer running."""


class LiveCluster:
    """The stack's standalone Flink cluster."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rest = settings.flink_rest_url

    def _get(self, path: str) -> Any:
        try:
            response = httpx.get(f"{self.rest}{path}", timeout=10)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise UserError(f"the Flink REST API at {self.rest} failed on {path}: {exc}") from exc
        return response.json()

    def active_job(self, name: str) -> str | None:
        return submit.active_job_id(self.settings, name)

    def flink_version(self) -> str:
        return str(self._get("/overview")["flink-version"])

    def prepare(self, config: JobConfig, say: Callable[[str], None]) -> None:
        pipeline.prepare(self.settings, config, say)

    def start(self, config: JobConfig, plan: Path, savepoint: str | None) -> str:
        submission = submit.submit(self.settings, config, restore_from=savepoint, plan=plan)
        if not submission.new:
            raise UserError(f"a job named {config.job_name} is active already: {submission.job_id}")
        return submission.job_id

    def stop_with_savepoint(self, job_id: str) -> str:
        location = savepoints.stop_with_savepoint(self.settings, job_id)
        wait_until(lambda: self.health(job_id).state in TERMINAL, 60, f"{job_id} to stop")
        return location

    def _get_or_empty(self, path: str) -> Any:
        """A job's checkpoints and exceptions: none yet while it initializes."""
        try:
            return self._get(path)
        except UserError:
            return {}

    def health(self, job_id: str) -> Health:
        job = self._get(f"/jobs/{job_id}")
        vertices = job.get("vertices", [])
        counts = self._get_or_empty(f"/jobs/{job_id}/checkpoints").get("counts", {})
        failure = ""
        entries = self._get_or_empty(f"/jobs/{job_id}/exceptions?maxExceptions=1")
        for entry in entries.get("exceptionHistory", {}).get("entries", [])[:1]:
            first_line = (entry.get("stacktrace") or "").strip().splitlines()[:1]
            failure = first_line[0] if first_line else str(entry.get("exceptionName", ""))
        return Health(
            state=str(job["state"]),
            tasks=sum(int(v["parallelism"]) for v in vertices),
            tasks_running=sum(int(v.get("tasks", {}).get("RUNNING", 0)) for v in vertices),
            checkpoints=int(counts.get("completed", 0)),
            failure=failure,
        )

    def cancel(self, job_id: str, timeout_s: float = 60) -> None:
        try:
            submit.cancel(self.settings, job_id)
        except httpx.HTTPError as exc:
            raise UserError(f"cancelling job {job_id} failed: {exc}") from exc
        wait_until(lambda: self.health(job_id).state in TERMINAL, timeout_s, f"{job_id} cancelled")


def wait_until(done: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 1) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise UserError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(poll_s)
