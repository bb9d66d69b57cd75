"""The faults a drill injects, each followed by what Kubernetes would do (start a replacement).

Every fault returns once the broken part has been started again; waiting for the job to
recover is the drill's business (flink_jobs.drills.recovery).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flink_jobs.drills.recovery import completed_checkpoints
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import Settings
from flink_jobs.stack.flink_cluster import FlinkCluster
from flink_jobs.stack.kafka import Kafka
from flink_jobs.stack.manager import wait_ready
from flink_jobs.stack.redis_server import Redis
from flink_jobs.stack.registry import Registry
from flink_jobs.stack.service import Service
from flink_jobs.submit import active_job_id, submit

Say = Callable[[str], None]


@dataclass(frozen=True)
class Context:
    settings: Settings
    config: JobConfig
    say: Say


def _restart(service: Service, process: str, hard: bool, say: Say) -> None:
    """Stop one process of `service` (SIGTERM, or SIGKILL when `hard`), then start it again."""
    [proc] = [p for p in service.processes() if p.name == process]
    proc.stop(timeout=60, hard=hard)
    say(f"    {'killed -9' if hard else 'stopped'} {process}; starting it again")
    service.start()
    wait_ready(service, say)


def kill_taskmanager(ctx: Context) -> None:
    _restart(FlinkCluster(ctx.settings), "flink-taskmanager", True, ctx.say)


def kill_taskmanager_repeatedly(ctx: Context, times: int = 3) -> None:
    """kill -9 the TaskManager `times` times, 0-6 s apart (Flink's Jepsen suite's gaps)."""
    rng = random.Random(time.time_ns())  # noqa: S311 - gaps, not secrets
    for i in range(times):
        if i:
            time.sleep(rng.uniform(0, 6))
        kill_taskmanager(ctx)


def _latest_checkpoint(settings: Settings, job_id: str) -> Path | None:
    """The newest completed checkpoint a job retained (one with its _metadata file)."""
    root = FlinkCluster(settings).home / "checkpoints" / job_id
    done = [p for p in root.glob("chk-*") if (p / "_metadata").exists()]
    return max(done, key=lambda p: int(p.name.removeprefix("chk-")), default=None)


def kill_jobmanager(ctx: Context) -> None:
    """kill -9 the JobManager. A standalone cluster has no HA store, so the restart wrapper
    does what Kubernetes HA would: start the JobManager again and resume the job from its
    newest retained checkpoint."""
    job_id = active_job_id(ctx.settings, ctx.config.job_name)
    if job_id is None:
        raise RuntimeError(f"job {ctx.config.job_name} is not running")
    _restart(FlinkCluster(ctx.settings), "flink-jobmanager", True, ctx.say)
    checkpoint = _latest_checkpoint(ctx.settings, job_id)
    if checkpoint is None:
        raise RuntimeError(f"job {job_id} retained no completed checkpoint to resume from")
    submission = submit(ctx.settings, ctx.config, restore_from=checkpoint.as_uri())
    ctx.say(f"    resubmitted as {submission.job_id} from {checkpoint.name}")


def restart_kafka_clean(ctx: Context) -> None:
    _restart(Kafka(ctx.settings), "kafka", False, ctx.say)


def restart_kafka_hard(ctx: Context) -> None:
    _restart(Kafka(ctx.settings), "kafka", True, ctx.say)


def restart_redis(ctx: Context) -> None:
    _restart(Redis(ctx.settings), "redis", False, ctx.say)


def restart_registry(ctx: Context) -> None:
    _restart(Registry(ctx.settings), "registry", False, ctx.say)


def kill_after_checkpoint(ctx: Context) -> None:
    """kill -9 the TaskManager right after a checkpoint completes: the restarted job must
    resume from exactly that checkpoint (its transactions committed, later ones aborted)."""
    job_id = active_job_id(ctx.settings, ctx.config.job_name)
    if job_id is None:
        raise RuntimeError(f"job {ctx.config.job_name} is not running")
    before = completed_checkpoints(ctx.settings, job_id)
    deadline = time.monotonic() + 120
    while completed_checkpoints(ctx.settings, job_id) == before:
        if time.monotonic() > deadline:
            raise RuntimeError("no checkpoint completed in 120 s")
        time.sleep(0.05)
    kill_taskmanager(ctx)


DRILLS: dict[str, Callable[[Context], None]] = {
    "taskmanager-kill": kill_taskmanager,
    "taskmanager-kill-repeated": kill_taskmanager_repeatedly,
    "jobmanager-kill": kill_jobmanager,
    "kafka-restart-clean": restart_kafka_clean,
    "kafka-restart-hard": restart_kafka_hard,
    "redis-restart": restart_redis,
    "registry-restart": restart_registry,
    "crash-after-checkpoint": kill_after_checkpoint,
}
QUICK = ("taskmanager-kill", "kafka-restart-hard")
