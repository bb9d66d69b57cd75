"""Job state across `stack down` and `stack up`: stop with a savepoint, resume from it.

A standalone cluster forgets its jobs when it stops. `stack down` therefore stops every
running job with a savepoint (no drain: open windows stay open) and records where;
`run` resumes a job of the same name from that savepoint, never with
`--allowNonRestoredState`, so state that does not map fails loudly instead of vanishing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from flink_jobs.errors import UserError
from flink_jobs.settings import Settings


def _resume_file(settings: Settings) -> Path:
    return settings.state_dir / "flink" / "resume.json"


def pending(settings: Settings) -> dict[str, str]:
    """Savepoint location per job name, waiting to be resumed."""
    path = _resume_file(settings)
    return dict(json.loads(path.read_text())) if path.exists() else {}


def _record(settings: Settings, resumes: dict[str, str]) -> None:
    _resume_file(settings).parent.mkdir(parents=True, exist_ok=True)
    _resume_file(settings).write_text(json.dumps(resumes, indent=2, sort_keys=True))


def forget(settings: Settings, job_name: str) -> None:
    _record(settings, {k: v for k, v in pending(settings).items() if k != job_name})


def stop_with_savepoint(settings: Settings, job_id: str, timeout_s: float = 120) -> str:
    """Stop the job with a savepoint in the cluster's savepoint directory; returns its location."""
    base = f"{settings.flink_rest_url}/jobs/{job_id}"
    target = (settings.state_dir / "flink" / "savepoints").as_uri()
    trigger = httpx.post(f"{base}/stop", json={"targetDirectory": target, "drain": False}).json()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = httpx.get(f"{base}/savepoints/{trigger['request-id']}", timeout=5).json()
        if status["status"]["id"] == "COMPLETED":
            operation = status["operation"]
            if "location" not in operation:
                cause = operation.get("failure-cause", {}).get("stack-trace", "")[:300]
                raise UserError(f"stop-with-savepoint of job {job_id} failed: {cause}")
            return str(operation["location"])
        time.sleep(0.5)
    raise UserError(f"job {job_id}: no savepoint within {timeout_s:.0f} s")


def stop_all(settings: Settings) -> list[tuple[str, str]]:
    """Stop every running job with a savepoint and record it for `run`; (name, location) each."""
    from flink_jobs.submit import jobs

    stopped = []
    resumes = pending(settings)
    for job in jobs(settings):
        if job["state"] == "RUNNING":
            name = str(job["name"])
            resumes[name] = stop_with_savepoint(settings, str(job["jid"]))
            _record(settings, resumes)
            stopped.append((name, resumes[name]))
    return stopped
