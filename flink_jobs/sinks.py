"""Sink tables: feature topics, late-event topics and dead-letter topics, all exactly-once.

Feature topics (`features.<group>.v<n>`) are keyed by entity and carry the group's reviewed
Avro schema (schemas/<topic>-value.avsc, generated from the definition). Windowed groups
append one record per window; lifetime groups are an update stream (upsert-kafka, keyed by
entity). The online store (Redis) is fed from these topics by flink_jobs.writer, so the
stateful job stays a pure Table API job whose state survives upgrades.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyflink.table import Schema, TableDescriptor

from flink_jobs.features.avro import feature_schema
from flink_jobs.features.columns import avro_columns
from flink_jobs.features.model import FeatureGroup, Lifetime, Source
from flink_jobs.job_config import JobConfig
from flink_jobs.registry import SCHEMA_DIR
from flink_jobs.settings import load_settings

# Must stay within the broker's transaction.max.timeout.ms and well above checkpoint
# interval + checkpoint duration + restart time, or a restart aborts committed output.
TRANSACTION_TIMEOUT_MS = 600_000
BROKER_TRANSACTION_MAX_TIMEOUT_MS = 900_000  # set on the stack's broker
CHECKPOINT_TIMEOUT_MS = 120_000
RESTART_ALLOWANCE_MS = 180_000
LATE_EVENT_SCHEMA = SCHEMA_DIR / "late-event.avsc"
DEAD_LETTER_SCHEMA = SCHEMA_DIR / "dead-letter.avsc"
TILE_UPDATE_SCHEMA = SCHEMA_DIR / "tile-update.avsc"


def check_transaction_timeout(config: JobConfig) -> None:
    needed = config.checkpoint_interval_s * 1000 + CHECKPOINT_TIMEOUT_MS + RESTART_ALLOWANCE_MS
    if not needed < TRANSACTION_TIMEOUT_MS <= BROKER_TRANSACTION_MAX_TIMEOUT_MS:
        raise ValueError(
            f"Kafka transaction timeout {TRANSACTION_TIMEOUT_MS} ms must exceed checkpoint "
            f"interval + timeout + restart ({needed} ms) and stay within the broker's "
            f"{BROKER_TRANSACTION_MAX_TIMEOUT_MS} ms"
        )


def _sink(
    config: JobConfig, topic: str, avro: dict[str, Any], key: str | None, upsert: bool = False
) -> TableDescriptor:
    """A transactional Avro sink on `topic`, its record key the column `key` (UTF-8); an
    upsert sink keeps only the latest value per key (Kafka compaction, upsert-kafka)."""
    check_transaction_timeout(config)
    schema = Schema.new_builder()
    for column in avro_columns(avro):
        schema.column(column.name, column.sql + ("" if column.nullable else " NOT NULL"))
    if upsert and key is not None:
        schema.primary_key(key)
    descriptor = (
        TableDescriptor.for_connector("upsert-kafka" if upsert else "kafka")
        .schema(schema.build())
        .option("topic", topic)
        .option("properties.bootstrap.servers", config.bootstrap)
        .option("value.format", "avro-confluent")
        .option("value.avro-confluent.url", config.registry_url)
        .option("value.avro-confluent.schema", json.dumps(avro, separators=(",", ":")))
        .option("value.fields-include", "ALL")
        .option("sink.delivery-guarantee", "exactly-once")
        .option("sink.transactional-id-prefix", f"{config.job_name}-{topic}")
        .option("properties.transaction.timeout.ms", str(TRANSACTION_TIMEOUT_MS))
    )
    for name, value in load_settings().kafka_java_security().items():  # prod: SASL_SSL
        descriptor.option(f"properties.{name}", value)
    if key is not None:
        descriptor.option("key.format", "raw")
        if not upsert:
            descriptor.option("key.fields", key)
    return descriptor.build()


def _schema(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def feature_sink(config: JobConfig, group: FeatureGroup) -> TableDescriptor:
    upsert = isinstance(group.window, Lifetime)
    avro = feature_schema(group)
    return _sink(config, config.feature_topic(group), avro, group.entity, upsert)


def late_sink(config: JobConfig, group: FeatureGroup) -> TableDescriptor:
    return _sink(config, config.late_topic(group), _schema(LATE_EVENT_SCHEMA), "entity")


def dead_letter_sink(config: JobConfig, source: Source) -> TableDescriptor:
    return _sink(config, config.dlq_topic(source), _schema(DEAD_LETTER_SCHEMA), None)


def tile_sink(config: JobConfig, topic: str) -> TableDescriptor:
    """Engine v2's tile stream of one entity kind (`tiles.<kind>.v2`), keyed by entity."""
    return _sink(config, topic, _schema(TILE_UPDATE_SCHEMA), "entity")
