"""A job's health as the stack's Flink REST API reports it (responses shaped like 2.2.1's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from flink_jobs.cluster import Health, LiveCluster
from flink_jobs.settings import Settings

JOB = "63bb851156fa1197f06f99768b0be656"


def vertex(parallelism: int, running: int) -> dict[str, Any]:
    tasks = {"CREATED": 0, "SCHEDULED": parallelism - running, "RUNNING": running, "FAILED": 0}
    return {"id": "v", "name": "Source", "parallelism": parallelism, "status": "X", "tasks": tasks}


def serve(monkeypatch: pytest.MonkeyPatch, responses: dict[str, tuple[int, Any]]) -> None:
    def get(url: str, timeout: float) -> httpx.Response:
        path = url.split(":1998", 1)[1]
        status, body = responses[path]
        return httpx.Response(status, json=body, request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", get)


def cluster(tmp_path: Path) -> LiveCluster:
    return LiveCluster(Settings(state_dir=tmp_path, flink_rest_port=1998))


def test_health_counts_running_tasks_and_completed_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failure = {"exceptionName": "java.io.IOException", "stacktrace": "java.io.IOException: no\n"}
    history = {"exceptionHistory": {"entries": [failure]}}
    serve(monkeypatch, {
        f"/jobs/{JOB}": (200, {"state": "RUNNING", "vertices": [vertex(2, 2), vertex(1, 0)]}),
        f"/jobs/{JOB}/checkpoints": (200, {"counts": {"restored": 1, "completed": 0}}),
        f"/jobs/{JOB}/exceptions?maxExceptions=1": (200, history),
    })  # fmt: skip
    health = cluster(tmp_path).health(JOB)
    assert health == Health("RUNNING", 3, 2, 0, "java.io.IOException: no")
    assert not health.healthy
    assert health.describe() == (
        "RUNNING, 2/3 tasks running, 0 checkpoints completed; latest failure: "
        "java.io.IOException: no"
    )


def test_an_initializing_job_has_no_checkpoints_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve(monkeypatch, {
        f"/jobs/{JOB}": (200, {"state": "INITIALIZING", "vertices": []}),
        f"/jobs/{JOB}/checkpoints": (404, {"errors": ["Checkpointing is not enabled"]}),
        f"/jobs/{JOB}/exceptions?maxExceptions=1": (404, {"errors": ["not yet"]}),
    })  # fmt: skip
    assert cluster(tmp_path).health(JOB) == Health("INITIALIZING", 0, 0, 0)


def test_healthy_is_every_task_running_and_a_checkpoint() -> None:
    assert Health("RUNNING", 3, 3, 1).healthy
    assert not Health("RUNNING", 3, 3, 0).healthy
    assert not Health("RESTARTING", 3, 3, 4).healthy
    assert not Health("RUNNING", 0, 0, 1).healthy
