"""Submit feature jobs to the stack's Flink cluster with the wheel's own `flink run`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from flink_jobs import deployments, savepoints
from flink_jobs.errors import UserError
from flink_jobs.flink_http import get_json
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import PROJECT_ROOT, Settings
from flink_jobs.stack.flink_cluster import FlinkCluster
from flink_jobs.stack.jars import flink_jars

ACTIVE = {"CREATED", "INITIALIZING", "RUNNING", "RESTARTING", "RECONCILING"}


def jobs(settings: Settings) -> list[dict[str, object]]:
    try:
        response = httpx.get(f"{settings.flink_rest_url}/jobs/overview", timeout=5)
    except httpx.HTTPError as exc:
        raise UserError(
            f"the Flink cluster at {settings.flink_rest_url} does not answer ({exc}): "
            "start the stack with `sportsfeat stack up`"
        ) from exc
    found: list[dict[str, object]] = response.json()["jobs"]
    return found


def active_job_id(settings: Settings, name: str) -> str | None:
    for job in jobs(settings):
        if job["name"] == name and job["state"] in ACTIVE:
            return str(job["jid"])
    return None


def job_state(settings: Settings, job_id: str) -> str:
    for job in jobs(settings):
        if job["jid"] == job_id:
            return str(job["state"])
    raise UserError(f"no job {job_id} on the cluster")


def flink_run(settings: Settings, args: list[str], what: str) -> str:
    """`flink run -d ARGS` on the stack's cluster with its distribution's client, Python
    driver and workers in this venv; returns the job id, or UserError with the cause."""
    cluster = FlinkCluster(settings)
    with httpx.Client() as http:
        running = get_json(http, f"{settings.flink_rest_url}/overview")["flink-version"]
    if running != cluster.dist.version:
        raise UserError(
            f"the cluster runs Flink {running}, these settings want {cluster.dist.version} "
            "(SPORTSFEAT_FLINK_VERSION): restart the stack with the settings you submit with"
        )
    argv = [
        str(cluster.dist.home / "bin" / "flink"), "run", "-d",
        "-m", f"{settings.host}:{settings.flink_rest_port}",
        "-pyclientexec", sys.executable, "-pyexec", sys.executable, *args,
    ]  # fmt: skip
    result = subprocess.run(
        argv, cwd=PROJECT_ROOT, env={**os.environ, **cluster.env()},
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    match = re.search(r"JobID ([0-9a-f]{32})", result.stdout)
    if result.returncode != 0 or match is None:
        detail = (result.stderr or result.stdout).strip().splitlines()
        cause = next(
            (ln for ln in reversed(detail) if "Exception" in ln), detail[-1] if detail else ""
        )
        raise UserError(f"`flink run` failed for {what}: {cause}")
    return match.group(1)


@dataclass(frozen=True)
class Submission:
    job_id: str
    new: bool  # False: a job of that name was already active and is reused
    resumed_from: str | None = None  # the savepoint a new job restored its state from

    def describe(self, job_name: str) -> str:
        if not self.new:
            return f"{job_name} already running as {self.job_id}"
        resumed = f", resumed from {self.resumed_from}" if self.resumed_from else ""
        return f"{job_name} submitted as {self.job_id}{resumed}"


def submit(
    settings: Settings, config: JobConfig, restore_from: str | None = None, plan: Path | None = None
) -> Submission:
    """Submit the job unless one of the same name is active; a job that `stack down` stopped
    with a savepoint resumes from it, or from `restore_from` (a savepoint or a retained
    checkpoint) when given. With `plan`, the job runs from that compiled plan."""
    existing = active_job_id(settings, config.job_name)
    if existing:
        return Submission(existing, new=False)
    if plan is None and deployments.load(settings, config.job_name) is not None:
        raise UserError(
            f"{config.job_name} was deployed from a compiled plan: start it with `sportsfeat "
            "run`, which restores its savepoint into the same plan (built without the plan, "
            "its operators would not match the state)"
        )
    savepoint = restore_from or savepoints.pending(settings).get(config.job_name)
    job_id = flink_run(
        settings,
        [*(["-s", savepoint] if savepoint else []), "-pym", "flink_jobs.job", *config.argv(),
         *(["--plan", str(plan)] if plan else [])],
        config.job_name,
    )  # fmt: skip
    if savepoint:
        savepoints.forget(settings, config.job_name)
    return Submission(job_id, new=True, resumed_from=savepoint)


def cancel(settings: Settings, job_id: str) -> None:
    httpx.patch(f"{settings.flink_rest_url}/jobs/{job_id}?mode=cancel", timeout=10)


def run_local(settings: Settings, config: JobConfig) -> int:
    """Run the job in a local mini-cluster in this terminal, until it fails or is interrupted."""
    jars = ";".join(jar.as_uri() for jar in flink_jars(settings.jar_cache))
    argv = [sys.executable, "-m", "flink_jobs.job", "--local", jars, *config.argv()]
    return subprocess.run(argv, cwd=PROJECT_ROOT, check=False).returncode
