"""Getting the pipeline running: schemas registered, topics created, the job submitted."""

from __future__ import annotations

from collections.abc import Callable

from flink_jobs.job_config import JobConfig
from flink_jobs.registry import RegistryClient
from flink_jobs.schema_governance import register_all
from flink_jobs.settings import Settings
from flink_jobs.topics import ensure_topics

SOURCE_PARTITIONS = 3


def prepare(settings: Settings, config: JobConfig, say: Callable[[str], None]) -> None:
    """Idempotent: registers the schemas and creates the job's topics if they are missing."""
    for subject, schema_id, level in register_all(RegistryClient(settings.registry_url)):
        say(f"schema   {subject}: id {schema_id}, {level}")
    ensure_topics(config.bootstrap, [config.source_topic], SOURCE_PARTITIONS)
    # The feature topic carries the latest value per entity: compacted.
    ensure_topics(
        config.bootstrap, [config.feature_topic], SOURCE_PARTITIONS, {"cleanup.policy": "compact"}
    )
    say(f"topics   {config.source_topic} -> {config.feature_topic}")
