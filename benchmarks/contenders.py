"""The systems the sustained search measures, each as the local stack runs it: how a step's
job is made, how far behind its consumers are, where its rows become visible, which Redis
keys are its own. A step's topics, consumer group and keys carry its namespace."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from benchmarks import flink_sql_job, kafka_io
from benchmarks.freshness import TileWatch, Visibility, Watch, project_visibility
from benchmarks.peer import launch
from benchmarks.systems import FlinkJob, QuixPeer, System, Work
from flink_jobs.errors import UserError
from flink_jobs.features.catalogue import INTERACTIONS
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import Settings
from flink_jobs.tiles.compile import split

PEER_COMMIT_S = 5.0  # Quix Streams' default commit interval


class Contender(Protocol):
    @property
    def label(self) -> str: ...  # in the report: what ran, at which parallelism

    @property
    def served(self) -> str: ...  # where the verdict reads freshness: "Redis" or "Kafka"

    def job(self, namespace: str, topic: str) -> System: ...  # reads `topic`; not started

    def lag(self, namespace: str) -> int: ...  # records not processed yet

    def visibility(self, namespace: str) -> Visibility: ...

    @property
    def watch(self) -> type[Watch]: ...  # how freshness is timed: from the event or the window

    def keys(self, namespace: str) -> list[str]: ...  # Redis key patterns of the step


def job_name(namespace: str) -> str:
    """The step's job, and its consumer group."""
    return f"{namespace}-job"


@dataclass
class Project:
    """The feature job (`groups`; "" = the whole catalogue) and the online-store writer."""

    settings: Settings
    groups: str = ""
    served: str = "Redis"
    flink_options: str = ""  # KEY=VALUE,... over the job's own (an A/B of a setting)
    work: Work = Work.FEATURES
    idleness: str = "lag-aware"  # v2's quiet partitions (JobConfig.idleness): an A/B of the source
    _jobs: dict[str, FlinkJob] = field(default_factory=dict, init=False, repr=False)

    @property
    def label(self) -> str:
        subset = "full catalogue" if not self.groups else f"groups {self.groups}"
        idleness = f", idleness {self.idleness}" if self.tiled else ""
        return f"project: {subset}, parallelism 1{idleness}"

    def config(self, namespace: str) -> JobConfig:
        name = job_name(namespace)
        return JobConfig(
            bootstrap=self.settings.kafka_bootstrap, registry_url=self.settings.registry_url,
            groups=self.groups, namespace=namespace, consumer_group=name, job_name=name,
            flink_options=self.flink_options, idleness=self.idleness,
        )  # fmt: skip

    def job(self, namespace: str, topic: str) -> FlinkJob:
        config = self.config(namespace)
        self._jobs[namespace] = FlinkJob(self.settings, config.job_name, config, self.work)
        return self._jobs[namespace]

    def lag(self, namespace: str) -> int:
        """Records appended that the job's source has not read: its read position comes
        from the source's offset gauges (REST, fresh each second), not from the offsets it
        commits on checkpoints (a 10 s sawtooth that buries a slow growth)."""
        job = self._jobs[namespace]
        read = job.consumed() or {}
        ends = kafka_io.end_offsets(job.config.bootstrap, job.config.source_topic(INTERACTIONS))
        return sum(end - read.get(p, 0) for p, end in ends.items())

    @property
    def tiled(self) -> bool:
        """Engine v2's groups (tiles), or v1's (windows); a job of both is timed apart."""
        windowed, kinds = split(self.config("").feature_groups())
        if windowed and kinds:
            raise UserError("measure engine v1 and v2 groups in runs of their own")
        return bool(kinds)

    @property
    def watch(self) -> type[Watch]:
        return TileWatch if self.tiled else Watch

    def visibility(self, namespace: str) -> Visibility:
        config = self.config(namespace)
        windowed, kinds = split(config.feature_groups())
        if kinds:
            tiles = {config.tile_topic(kind): kind.name for kind in kinds}
            return Visibility(tiles, kafka_io.avro_decoder(self.settings.registry_url))
        topics = {config.feature_topic(g): g for g in windowed}
        return project_visibility(topics, self.settings.registry_url)

    def keys(self, namespace: str) -> list[str]:
        # Tile keys are the groups' own (the stream offset guards them): a step leaves none.
        return ["tile:*"] if self.tiled else [f"feat:*_{namespace}:*"]


@dataclass
class PlainSql(Project):
    """The peer's groups as a Flink user writes them (benchmarks.flink_sql_job): its rows
    go to Kafka only (at-least-once), so the verdict reads Kafka."""

    served: str = "Kafka"
    work: Work = Work.PLAIN_SQL

    @property
    def label(self) -> str:
        return "plain Flink SQL: the peer's groups, window TVFs, parallelism 1"

    def visibility(self, namespace: str) -> Visibility:
        topics = dict(zip(flink_sql_job.topics(namespace), flink_sql_job.GROUPS, strict=True))
        return Visibility(topics, kafka_io.json_decoder)

    def keys(self, namespace: str) -> list[str]:
        return []


@dataclass
class Quix:
    """The peer: one Quix Streams app (its groups, benchmarks.feature_sets) with its Redis
    sink; its lag counts the rows it re-keyed into its repartition topics too."""

    settings: Settings
    python: Path  # of the peer's own venv (benchmarks.peer.venv.ensure)
    label: str = "peer: Quix Streams 3.28.1, 1 process"
    served: str = "Redis"
    _peers: dict[str, QuixPeer] = field(default_factory=dict, init=False, repr=False)

    def job(self, namespace: str, topic: str) -> QuixPeer:
        work = self.settings.state_dir / "bench" / namespace
        peer = launch.quix_peer(self.settings, self.python, work, job_name(namespace), topic,
                                self.prefix(namespace), PEER_COMMIT_S)  # fmt: skip
        self._peers[namespace] = peer
        return peer

    def prefix(self, namespace: str) -> str:
        return f"peer.{namespace}"

    def lag(self, namespace: str) -> int:
        peer = self._peers[namespace]
        return kafka_io.lag(peer.bootstrap, peer.consumer_group, peer.topic) + peer.rekeyed_lag()

    @property
    def watch(self) -> type[Watch]:
        return Watch

    def visibility(self, namespace: str) -> Visibility:
        return launch.visibility(self.prefix(namespace))

    def keys(self, namespace: str) -> list[str]:
        return [f"{self.prefix(namespace)}:*"]
