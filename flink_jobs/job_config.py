"""What one feature job needs to know, parsed from its command line (``--help`` lists it)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from flink_jobs.settings import load_settings

JOB_NAME = "user-activity-features"


@dataclass(frozen=True)
class JobConfig:
    bootstrap: str
    registry_url: str
    source_topic: str = "fan.interactions"
    feature_topic: str = "features.user_activity.v1"
    consumer_group: str = JOB_NAME
    job_name: str = JOB_NAME
    watermark_delay_s: int = 5
    idle_timeout_s: int = 10
    checkpoint_interval_s: int = 10
    parallelism: int = 1

    @classmethod
    def parse(cls, argv: list[str] | None = None) -> JobConfig:
        settings = load_settings()
        parser = argparse.ArgumentParser(description="user activity features: 1-minute tumbling")
        parser.add_argument("--bootstrap", default=settings.kafka_bootstrap)
        parser.add_argument("--registry-url", default=settings.registry_url)
        for name in ("source_topic", "feature_topic", "consumer_group", "job_name"):
            parser.add_argument("--" + name.replace("_", "-"), default=getattr(cls, name))
        for name in ("watermark_delay_s", "idle_timeout_s", "checkpoint_interval_s", "parallelism"):
            parser.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(cls, name))
        return cls(**vars(parser.parse_args(argv)))

    def argv(self) -> list[str]:
        """The command line that parses back into this config."""
        return [x for k, v in vars(self).items() for x in ("--" + k.replace("_", "-"), str(v))]
