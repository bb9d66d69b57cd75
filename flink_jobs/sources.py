"""Source tables: Kafka topics decoded with the registry (avro-confluent), with watermarks."""

from __future__ import annotations

from pyflink.table import TableDescriptor

from flink_jobs.avro_columns import table_schema
from flink_jobs.job_config import JobConfig
from flink_jobs.registry import schema_for_topic


def interactions_source(config: JobConfig) -> TableDescriptor:
    """`fan.interactions`: columns from its registered schema, watermark `event_time - delay`."""
    schema = schema_for_topic("fan.interactions").schema()
    return (
        TableDescriptor.for_connector("kafka")
        .schema(table_schema(schema, "event_time", config.watermark_delay_s))
        .option("topic", config.source_topic)
        .option("properties.bootstrap.servers", config.bootstrap)
        .option("properties.group.id", config.consumer_group)
        .option("properties.isolation.level", "read_committed")
        .option("scan.startup.mode", "group-offsets")
        .option("properties.auto.offset.reset", "earliest")
        .option("scan.watermark.idle-timeout", f"{config.idle_timeout_s} s")
        .option("value.format", "avro-confluent")
        .option("value.avro-confluent.url", config.registry_url)
        .build()
    )
