"""What the feature job needs to know, parsed from its command line (``--help`` lists it)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.features.model import FeatureGroup, Source
from flink_jobs.settings import load_settings
from flink_jobs.tiles.compile import TILED_CATALOGUE, Kind

JOB_NAME = "sportsfeat-features"
WATERMARK_EMIT = ("on-periodic", "on-event")
IDLENESS = ("lag-aware", "flink")


@dataclass(frozen=True)
class JobConfig:
    bootstrap: str
    registry_url: str
    groups: str = ""  # comma-separated group names; empty: the whole catalogue
    namespace: str = ""  # tests: topics of their own, e.g. fan.interactions.<ns>
    source_namespace: str = ""  # benchmarks: read another namespace's sources; "": namespace
    consumer_group: str = JOB_NAME
    job_name: str = JOB_NAME
    watermark_emit: str = "on-periodic"  # on-event: a watermark after every record
    checkpoint_interval_s: int = 10
    parallelism: int = 1
    bounded: bool = False  # read the sources from their start to their end at start, finish
    flink_options: str = ""  # KEY=VALUE,...: Flink options over the job's own (tuning, A/B)
    # v2 jobs' quiet partitions: "lag-aware" (connector kafka-lag-aware, flink_jobs/sources.py)
    # or "flink" (Flink's idle timeout: the A/B baseline, a fallback); v1 jobs always "flink"
    idleness: str = "lag-aware"

    @classmethod
    def parse(cls, argv: list[str] | None = None) -> JobConfig:
        settings = load_settings()
        parser = argparse.ArgumentParser(description="the feature job: the whole catalogue")
        parser.add_argument("--bootstrap", default=settings.kafka_bootstrap)
        parser.add_argument("--registry-url", default=settings.registry_url)
        names = ("groups", "namespace", "source_namespace", "consumer_group", "job_name")
        for name in (*names, "flink_options"):
            parser.add_argument("--" + name.replace("_", "-"), default=getattr(cls, name))
        parser.add_argument("--watermark-emit", choices=WATERMARK_EMIT, default=cls.watermark_emit)
        parser.add_argument("--idleness", choices=IDLENESS, default=cls.idleness)
        for name in ("checkpoint_interval_s", "parallelism"):
            parser.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(cls, name))
        parser.add_argument("--bounded", type=lambda v: v == "True", default=cls.bounded)
        return cls(**vars(parser.parse_args(argv)))

    def argv(self) -> list[str]:
        """The command line that parses back into this config."""
        return [x for k, v in vars(self).items() for x in ("--" + k.replace("_", "-"), str(v))]

    def flink_option_map(self) -> dict[str, str]:
        """`flink_options` as a dict; ValueError naming an entry that is not KEY=VALUE."""
        options = {}
        for entry in filter(None, self.flink_options.split(",")):
            key, sep, value = entry.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ValueError(f"flink option {entry!r} is not KEY=VALUE (e.g. a.b=true)")
            options[key.strip()] = value.strip()
        return options

    def feature_groups(self) -> tuple[FeatureGroup, ...]:
        if not self.groups:
            return CATALOGUE
        wanted = self.groups.split(",")
        # By name (its last declared version) or by name and version: user_activity.v2.
        # Engine v2's tiled versions only by name and version (docs/engine-v2.md); a version
        # the catalogue declares itself wins.
        versioned = (*TILED_CATALOGUE, *CATALOGUE)
        known = {g.name: g for g in CATALOGUE} | {f"{g.name}.v{g.version}": g for g in versioned}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise ValueError(f"unknown feature groups {unknown}; known: {sorted(known)}")
        return tuple(known[name] for name in wanted)

    def sources(self) -> tuple[Source, ...]:
        return tuple(dict.fromkeys(g.source for g in self.feature_groups()))

    def _suffix(self) -> str:
        return f"_{self.namespace}" if self.namespace else ""

    def source_topic(self, source: Source) -> str:
        namespace = self.source_namespace or self.namespace
        return f"{source.topic}.{namespace}" if namespace else source.topic

    def dlq_topic(self, source: Source) -> str:
        return f"dlq.{self.source_topic(source)}"

    def feature_topic(self, group: FeatureGroup) -> str:
        return f"features.{group.name}{self._suffix()}.v{group.version}"

    def late_topic(self, group: FeatureGroup) -> str:
        return f"late.{group.name}{self._suffix()}.v{group.version}"

    def tile_topic(self, kind: Kind) -> str:
        return f"tiles.{kind.name}{self._suffix()}.v{kind.version}"
