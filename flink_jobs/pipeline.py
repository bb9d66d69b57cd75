"""Getting the pipeline running: schemas registered, topics created, the job submitted."""

from __future__ import annotations

import json
from collections.abc import Callable

from flink_jobs.features.avro import feature_schema
from flink_jobs.job_config import JobConfig
from flink_jobs.registry import RegistryClient, schema_for_topic
from flink_jobs.schema_governance import register_all
from flink_jobs.settings import Settings
from flink_jobs.sinks import DEAD_LETTER_SCHEMA, LATE_EVENT_SCHEMA, TILE_UPDATE_SCHEMA
from flink_jobs.tiles.compile import split
from flink_jobs.topics import ensure_topics

SOURCE_PARTITIONS = 3
OUTPUT_LEVEL = "BACKWARD_TRANSITIVE"
TILE_RETENTION_MS = str(2 * 86_400_000)


def subjects(config: JobConfig) -> dict[str, tuple[str, str]]:
    """(schema, compatibility level) by subject, for every topic the job reads or writes.

    The canonical topics' subjects come from the schema files (register_all); these are the
    same schemas under the job's actual topic names (which differ with a test namespace).
    """
    side = (LATE_EVENT_SCHEMA, DEAD_LETTER_SCHEMA, TILE_UPDATE_SCHEMA)
    late, dead, tiles = (json.dumps(json.loads(p.read_text()), separators=(",", ":")) for p in side)
    subjects = {}
    for source in config.sources():
        schema = schema_for_topic(source.topic).canonical()
        subjects[f"{config.source_topic(source)}-value"] = (schema, "FULL_TRANSITIVE")
        subjects[f"{config.dlq_topic(source)}-value"] = (dead, OUTPUT_LEVEL)
    windowed, tiled = split(config.feature_groups())
    for group in windowed:
        schema = json.dumps(feature_schema(group), separators=(",", ":"))
        subjects[f"{config.feature_topic(group)}-value"] = (schema, OUTPUT_LEVEL)
    for group in config.feature_groups():
        subjects[f"{config.late_topic(group)}-value"] = (late, OUTPUT_LEVEL)
    for kind in tiled:
        subjects[f"{config.tile_topic(kind)}-value"] = (tiles, OUTPUT_LEVEL)
    return subjects


def prepare(
    settings: Settings, config: JobConfig, say: Callable[[str], None],
    partitions: int = SOURCE_PARTITIONS,
) -> None:  # fmt: skip
    """Idempotent: registers the schemas and creates the job's topics if they are missing
    (one partition: one watermark, for runs that compare with the reference exactly)."""
    registry = RegistryClient(settings.registry_url)
    for subject, schema_id, level in register_all(registry):
        say(f"schema   {subject}: id {schema_id}, {level}")
    for subject, (schema, level) in subjects(config).items():
        registry.set_compatibility(subject, level)
        registry.register(subject, schema)
    sources = [config.source_topic(s) for s in config.sources()]
    groups = config.feature_groups()
    windowed, tiled = split(groups)
    ensure_topics(config.bootstrap, sources, partitions)
    # Feature topics carry the latest value per entity: compacted.
    features = [config.feature_topic(g) for g in windowed]
    ensure_topics(config.bootstrap, features, partitions, {"cleanup.policy": "compact"})
    # Tile streams: every tile version, kept past the longest tiled window (the day) + replay.
    tile_topics = [config.tile_topic(k) for k in tiled]
    ensure_topics(config.bootstrap, tile_topics, partitions, {"retention.ms": TILE_RETENTION_MS})
    side = [config.late_topic(g) for g in groups] + [config.dlq_topic(s) for s in config.sources()]
    ensure_topics(config.bootstrap, side, 1)
    say(
        f"topics   {', '.join(sources)} -> {len(features)} feature topics, "
        f"{len(tile_topics)} tile streams, late and dead letters"
    )
