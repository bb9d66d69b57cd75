"""The systems the benchmark drains the backlog with, behind one small interface: start,
report the source offsets consumed so far, name the processes doing the work, stop.

- `FlinkJob`: the feature job (any group set, any parallelism), the read-and-decode
  limit, or the peer's groups in plain Flink SQL (`Work`), on the stack's cluster; progress
  from the Kafka source's offset gauges over Flink's REST API, or, if those are missing,
  the offsets it commits on each checkpoint.
- `QuixPeer`: one or more Quix Streams processes in one consumer group; progress from the
  offsets it commits (every commit interval), not at the end while rows it re-keyed into
  its repartition topics wait.
- `consumer_perf`: Kafka's own Java consumer perf tool, run to completion.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol

from benchmarks import flink_sql_job, kafka_io
from benchmarks.flink_rest import Checkpoint, FlinkRest
from benchmarks.procstat import Usage
from flink_jobs import pipeline, submit
from flink_jobs.errors import UserError
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import PROJECT_ROOT, Settings
from flink_jobs.stack.flink_cluster import FlinkCluster
from flink_jobs.stack.jars import kafka_classpath
from flink_jobs.stack.service import Service
from flink_jobs.stack.writer import OnlineStoreWriter
from flink_jobs.topics import ensure_topics

READ_JOB = Path(__file__).with_name("flink_read_job.py")


class Work(Enum):
    """What a FlinkJob runs."""

    FEATURES = "the feature job (flink_jobs.job), its rows served by the online-store writer"
    READ = "the read-and-decode limit (flink_read_job.py)"
    READ_PLAIN_AVRO = "the read with Flink's avro-confluent format (flink_read_job.py)"
    PLAIN_SQL = "the peer's groups in plain Flink SQL (flink_sql_job.py), rows in Kafka only"

    def entry(self) -> list[str]:
        """`flink run` arguments before the job's command line (not for FEATURES, which
        flink_jobs.submit submits)."""
        match self:
            case Work.READ:
                return ["-py", str(READ_JOB)]
            case Work.READ_PLAIN_AVRO:
                return ["-py", str(READ_JOB), "--plain-avro"]
            case Work.PLAIN_SQL:  # -pym: it imports benchmarks (flink run's cwd is the root)
                return ["-pym", "benchmarks.flink_sql_job"]
        raise ValueError(f"{self.name} is submitted by flink_jobs.submit")


class System(Protocol):
    name: str

    def start(self) -> None: ...

    def consumed(self) -> dict[int, int] | None:
        """Per source partition, the offset up to which it has read (None: not yet known)."""

    def roles(self) -> dict[str, list[int]]:
        """Process role -> root pids whose CPU and memory the run is charged."""

    def stop(self) -> None: ...


def stack_pid(service: Service, process: str) -> list[int]:
    pids = [p.pid() for p in service.processes() if p.name == process]
    return [pid for pid in pids if pid is not None]


@dataclass
class FlinkJob:
    """A Flink job on the stack's cluster: the feature job, or another `Work`."""

    settings: Settings
    name: str
    config: JobConfig
    work: Work = Work.FEATURES
    start_timeout_s: float = 180
    job_id: str | None = None
    probe: str = "source offset gauges (REST)"
    checkpoints: list[Checkpoint] = field(default_factory=list)
    processed: kafka_io.Offsets = field(default_factory=dict)  # read before the last checkpoint

    def __post_init__(self) -> None:
        self._rest = FlinkRest(self.settings.flink_rest_url)
        self._partitions: list[int] = []

    def start(self) -> None:
        topic = self.config.source_topic(self.config.sources()[0])
        self._partitions = sorted(kafka_io.end_offsets(self.config.bootstrap, topic))
        if self.work is Work.FEATURES:
            pipeline.prepare(self.settings, self.config, lambda _line: None)
            self.job_id = submit.submit(self.settings, self.config).job_id
        else:
            if self.work is Work.PLAIN_SQL:  # its sink writes only to topics that exist
                outputs = flink_sql_job.topics(self.config.namespace)
                ensure_topics(self.config.bootstrap, outputs, len(self._partitions))
            argv = [*self.work.entry(), *self.config.argv()]
            self.job_id = submit.flink_run(self.settings, argv, self.name)
        self._rest.wait_running(self.job_id, self.start_timeout_s)

    def consumed(self) -> dict[int, int] | None:
        if self.job_id is None:
            return None
        if self._rest.state(self.job_id) in ("FAILED", "CANCELED"):
            raise UserError(f"{self.name}: job {self.job_id} failed; see the Flink web UI")
        offsets = self._rest.source_offsets(self.job_id)
        self.probe = "source offset gauges (REST)"
        if offsets is None:  # gauges missing: the offsets committed on checkpoints
            self.probe = "offsets committed on checkpoints"
            topic = self.config.source_topic(self.config.sources()[0])
            found = kafka_io.committed(
                self.config.bootstrap, self.config.consumer_group, topic, self._partitions
            )
            offsets = found if any(found.values()) else None
        return offsets

    def roles(self) -> dict[str, list[int]]:
        roles = {"TaskManager": stack_pid(FlinkCluster(self.settings), "flink-taskmanager")}
        if self.work is Work.FEATURES:
            roles["writer"] = stack_pid(OnlineStoreWriter(self.settings), "writer")
        return roles

    def stop(self) -> None:
        """Cancel the job; the feature job first completes one more checkpoint, so what it
        computed from the offsets it had read (`processed`) is committed (exactly-once output
        is visible only after one; the offsets it commits to Kafka may lag that)."""
        if self.job_id is None:
            return
        try:
            if self.work is Work.FEATURES:
                self.processed = self.consumed() or {}
                self._await_checkpoint(self.job_id)
            self.checkpoints = self._rest.checkpoints(self.job_id)
        finally:
            self._rest.cancel(self.job_id)

    def _await_checkpoint(self, job_id: str) -> None:
        before = max((c.id for c in self._rest.checkpoints(job_id)), default=0)
        deadline = time.monotonic() + 2 * self.config.checkpoint_interval_s + 60
        while time.monotonic() < deadline:
            if any(c.id > before for c in self._rest.checkpoints(job_id)):
                return
            time.sleep(1)
        raise UserError(f"{self.name}: no checkpoint completed after the run")


@dataclass
class QuixPeer:
    """`processes` Quix Streams apps in one consumer group (its way to scale out)."""

    name: str
    python: Path
    app_args: list[str]  # everything but the state dir
    consumer_group: str
    bootstrap: str
    topic: str
    work_dir: Path
    processes: int = 1
    late: dict[str, int] = field(default_factory=dict)
    probe: str = "offsets the peer commits"

    def __post_init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []
        self._ends: kafka_io.Offsets = {}
        self._partitions: list[int] = []

    @property
    def output_prefix(self) -> str:
        """Of the Kafka topics and Redis keys the app writes (its --output-prefix)."""
        return self.app_args[self.app_args.index("--output-prefix") + 1]

    def log(self, i: int) -> Path:
        return self.work_dir / f"{self.name}-{i}.log"

    def start(self) -> None:
        self._ends = kafka_io.end_offsets(self.bootstrap, self.topic)
        self._partitions = sorted(self._ends)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        for i in range(self.processes):
            argv = [
                str(self.python),
                *self.app_args,
                "--consumer-group",
                self.consumer_group,
                "--state-dir",
                str(self.work_dir / f"state-{i}"),
            ]
            env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}  # for benchmarks.peer.rows
            with self.log(i).open("wb") as log:
                self._procs.append(
                    subprocess.Popen(
                        argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.work_dir, env=env
                    )
                )

    def consumed(self) -> dict[int, int] | None:
        for i, proc in enumerate(self._procs):
            if proc.poll() is not None:
                tail = self.log(i).read_text(errors="replace").splitlines()[-5:]
                raise UserError(f"{self.name}: process {i} exited: {' | '.join(tail)}")
        found = kafka_io.committed(
            self.bootstrap, self.consumer_group, self.topic, self._partitions
        )
        if not any(found.values()):
            return None
        if self.rekeyed_lag():  # not drained while re-keyed rows wait: one short per partition
            return {p: min(offset, self._ends[p] - 1) for p, offset in found.items()}
        return found

    def rekeyed_lag(self) -> int:
        """Rows re-keyed (group_by) into the peer's repartition topics, not processed yet:
        they are part of the backlog too (a content window closes only after them)."""
        prefix = f"repartition__{self.consumer_group}--"
        return sum(
            kafka_io.lag(self.bootstrap, self.consumer_group, topic)
            for topic in kafka_io.topics(self.bootstrap, prefix)
        )

    def roles(self) -> dict[str, list[int]]:
        return {"peer": [p.pid for p in self._procs]}

    def stop(self) -> None:
        for proc in self._procs:
            proc.send_signal(signal.SIGTERM)
        for i, proc in enumerate(self._procs):
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
            for line in self.log(i).read_text(errors="replace").splitlines():
                if line.startswith('{"late"'):
                    for store, n in json.loads(line)["late"].items():
                        self.late[store] = self.late.get(store, 0) + n
            shutil.rmtree(self.work_dir / f"state-{i}", ignore_errors=True)


@dataclass(frozen=True)
class PerfResult:
    rate: float  # records/s while fetching (the tool's fetch.nMsg.sec: rebalance excluded)
    records: int
    cpu_s: float
    peak_rss_kib: int


def consumer_perf(settings: Settings, topic: str, records: int, timeout_s: float) -> PerfResult:
    """org.apache.kafka.tools.ConsumerPerformance over the topic, in a fresh group."""
    argv = [
        "java",
        "-cp",
        kafka_classpath(settings.jar_cache),
        "org.apache.kafka.tools.ConsumerPerformance",
        "--bootstrap-server",
        settings.kafka_bootstrap,
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--group",
        f"bench-perf-{uuid.uuid4().hex[:8]}",
        "--timeout",
        "30000",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    usage = Usage({"consumer": [proc.pid]})
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None:
        usage.sample()
        if time.monotonic() > deadline:
            proc.kill()
            raise UserError(f"Kafka's consumer perf tool did not finish in {timeout_s:.0f} s")
        time.sleep(0.2)
    output = proc.stdout.read() if proc.stdout else ""
    return parse_consumer_perf(
        output, usage.cpu_seconds()["consumer"], usage.peak_rss_kib.get("consumer", 0)
    )


def parse_consumer_perf(output: str, cpu_s: float, peak_rss_kib: int) -> PerfResult:
    """The tool prints a header line and a value line, comma-separated."""
    lines = [ln for ln in output.splitlines() if ln.count(",") >= 9]
    if len(lines) < 2:
        raise UserError(f"Kafka's consumer perf tool printed no result: {output[-300:]!r}")
    row = dict(
        zip(
            [h.strip() for h in lines[-2].split(",")],
            [v.strip() for v in lines[-1].split(",")],
            strict=False,
        )
    )
    return PerfResult(
        float(row["fetch.nMsg.sec"]), int(row["data.consumed.in.nMsg"]), cpu_s, peak_rss_kib
    )
