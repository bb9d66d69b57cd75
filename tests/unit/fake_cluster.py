"""A fake Flink cluster and a job deployed on it, for the upgrade and migrate tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flink_jobs import deployments
from flink_jobs.cluster import Health
from flink_jobs.errors import UserError
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import Settings
from flink_jobs.upgrade import Context, deploy

NAME = "features-test"
HEALTHY = Health("RUNNING", tasks=3, tasks_running=3, checkpoints=1)


@dataclass
class FakeJob:
    config: JobConfig
    plan: Path
    savepoint: str | None
    state: str = "RUNNING"


@dataclass
class FakeCluster:
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    # Why starting this config fails (None: it starts), and how a started job fares.
    start_failure: Callable[[JobConfig], str | None] = lambda config: None
    health_of: Callable[[FakeJob], Health] = lambda job: HEALTHY

    def active_job(self, name: str) -> str | None:
        return next(
            (i for i, j in self.jobs.items() if j.config.job_name == name and j.state == "RUNNING"),
            None,
        )

    def flink_version(self) -> str:
        return "2.2.1"

    def prepare(self, config: JobConfig, say: Callable[[str], None]) -> None:
        self.calls.append(f"prepare {config.groups}")

    def start(self, config: JobConfig, plan: Path, savepoint: str | None) -> str:
        self.calls.append(f"start p{config.parallelism} {plan.name} from {savepoint}")
        if failure := self.start_failure(config):
            raise UserError(failure)
        job_id = f"job{len(self.jobs) + 1}"
        self.jobs[job_id] = FakeJob(config, plan, savepoint)
        return job_id

    def stop_with_savepoint(self, job_id: str) -> str:
        self.calls.append(f"stop {job_id}")
        self.jobs[job_id].state = "FINISHED"
        return f"file:/savepoints/{job_id}"

    def health(self, job_id: str) -> Health:
        job = self.jobs[job_id]
        return Health(job.state, 3, 0, 0) if job.state != "RUNNING" else self.health_of(job)

    def cancel(self, job_id: str) -> None:
        self.calls.append(f"cancel {job_id}")
        self.jobs[job_id].state = "CANCELED"


def fake_compile(config: JobConfig, path: Path) -> None:
    """A plan like Flink's: a source, then two nodes per group in the job's order."""
    nodes: list[dict[str, object]] = [{"id": 1, "type": "stream-exec-table-source-scan_1"}]
    edges = []
    for group in config.feature_groups():
        agg, out = len(nodes) + 1, len(nodes) + 2
        identifier = f"`c`.`d`.`{group.table}_sink`"
        nodes.append({"id": agg, "type": "stream-exec-window-aggregate_1", "of": group.table})
        table = {"table": {"identifier": identifier}}
        nodes.append({"id": out, "type": "stream-exec-sink_1", "dynamicTableSink": table})
        edges += [{"source": 1, "target": agg}, {"source": agg, "target": out}]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"flinkVersion": "2.2", "nodes": nodes, "edges": edges}))


@dataclass
class World:
    ctx: Context
    cluster: FakeCluster
    said: list[str]
    compiled: list[Path]

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def outcomes(self) -> list[str]:
        return [entry["outcome"] for entry in deployments.upgrade_log(self.settings)]


def make_world(tmp_path: Path) -> World:
    """`NAME` deployed from a plan on a fake cluster, computing user_activity."""
    cluster, said, compiled = FakeCluster(), list[str](), list[Path]()

    def compiler(config: JobConfig, path: Path) -> None:
        compiled.append(path)
        fake_compile(config, path)

    ctx = Context(Settings(state_dir=tmp_path), cluster, said.append, compiler, 0.3, 0.01)
    config = JobConfig(bootstrap="b", registry_url="r", groups="user_activity", job_name=NAME)
    deploy(ctx, config, selection="user_activity")
    cluster.calls.clear()
    return World(ctx, cluster, said, compiled)
