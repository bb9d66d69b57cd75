"""Whether the job recovered from a fault: RUNNING again, and new checkpoints completing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from flink_jobs.settings import Settings
from flink_jobs.submit import active_job_id, job_state


def _checkpoints(settings: Settings, job_id: str) -> dict[str, Any]:
    response = httpx.get(f"{settings.flink_rest_url}/jobs/{job_id}/checkpoints", timeout=10)
    response.raise_for_status()
    stats: dict[str, Any] = response.json()
    return stats


def completed_checkpoints(settings: Settings, job_id: str) -> int:
    return int(_checkpoints(settings, job_id)["counts"]["completed"])


@dataclass(frozen=True)
class Recovery:
    running_s: float  # fault -> the job RUNNING again (0: it never stopped running)
    checkpoint_s: float  # fault -> the first checkpoint triggered after it completed
    checkpoints: int  # checkpoints triggered after the fault and completed
    job_id: str


def _completed_since(settings: Settings, job_id: str, since_ms: int) -> list[dict[str, Any]]:
    history = _checkpoints(settings, job_id).get("history", [])
    return [c for c in history if c["status"] == "COMPLETED" and c["trigger_timestamp"] >= since_ms]


def _running_since_ms(settings: Settings, job_id: str) -> int:
    """When the job last entered RUNNING (Flink keeps the latest time of each state)."""
    job = httpx.get(f"{settings.flink_rest_url}/jobs/{job_id}", timeout=10).json()
    return int(job["timestamps"]["RUNNING"])


def wait_recovered(
    settings: Settings, job_name: str, fault_at: float, checkpoints: int = 2, timeout_s: float = 240
) -> Recovery:
    """Wait until the job (whatever its id now) runs and `checkpoints` checkpoints triggered
    after `fault_at` (a time.time()) completed; TimeoutError naming what is missing."""
    since_ms, state = int(fault_at * 1000), "no job"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job_id = active_job_id(settings, job_name)
        state = job_state(settings, job_id) if job_id is not None else "no job"
        if job_id is not None and state == "RUNNING":
            running_since_ms = _running_since_ms(settings, job_id)
            # Checkpoints of the recovered job: triggered after the fault and after it last
            # started running (one in flight when the fault hit does not count).
            done = _completed_since(settings, job_id, max(since_ms, running_since_ms))
            if len(done) >= checkpoints:
                first = min(done, key=lambda c: c["trigger_timestamp"])
                return Recovery(
                    running_s=max(0.0, running_since_ms / 1000 - fault_at),
                    checkpoint_s=first["latest_ack_timestamp"] / 1000 - fault_at,
                    checkpoints=len(done),
                    job_id=job_id,
                )
        time.sleep(1)
    raise TimeoutError(
        f"{job_name} not recovered {timeout_s:.0f} s after the fault: state {state}, "
        f"{checkpoints} new checkpoints wanted"
    )
