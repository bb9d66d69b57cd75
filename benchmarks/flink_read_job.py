"""The read-and-decode limit: the feature job's own Kafka source (raw bytes decoded by
DECODE_AVRO, event time and watermark) into a blackhole sink, nothing else. With
`--plain-avro` first: Flink's own avro-confluent format instead (no dead-letter path: one
bad record fails the job), to measure what the dead-letter decoding costs.

Submitted by the benchmark with `flink run -py` and the feature job's command line (only
the source, registry, consumer group, name, parallelism and checkpoint options matter);
checkpoints as the feature job's, so the comparison differs only in the work per event.
"""

from __future__ import annotations

import sys

from pyflink.table import EnvironmentSettings, Schema, TableDescriptor, TableEnvironment

from flink_jobs.features.catalogue import INTERACTIONS
from flink_jobs.features.columns import avro_columns
from flink_jobs.job import configure
from flink_jobs.job_config import JobConfig
from flink_jobs.registry import schema_for_topic
from flink_jobs.sources import register_kafka_source
from udfs import register_java_functions


def plain_avro_source(config: JobConfig) -> TableDescriptor:
    schema = Schema.new_builder()
    for column in avro_columns(schema_for_topic(INTERACTIONS.topic).schema()):
        schema.column(column.name, column.sql + ("" if column.nullable else " NOT NULL"))
    schema.watermark(INTERACTIONS.event_time, "`event_time` - INTERVAL '5' SECOND")
    return (
        TableDescriptor.for_connector("kafka")
        .schema(schema.build())
        .option("topic", config.source_topic(INTERACTIONS))
        .option("properties.bootstrap.servers", config.bootstrap)
        .option("properties.group.id", config.consumer_group)
        .option("properties.isolation.level", "read_committed")
        .option("scan.startup.mode", "earliest-offset")
        .option("scan.bounded.mode", "latest-offset" if config.bounded else "unbounded")
        .option("value.format", "avro-confluent")
        .option("value.avro-confluent.url", config.registry_url)
        .build()
    )


def register_decoded_source(t_env: TableEnvironment, config: JobConfig) -> None:
    """The Java functions and the feature job's own source (view `<source>_decoded`)."""
    register_java_functions(t_env)
    register_kafka_source(
        t_env,
        INTERACTIONS,
        config.source_topic(INTERACTIONS),
        bootstrap=config.bootstrap,
        group_id=config.consumer_group,
        emit_on_event=False,
        registry_url=config.registry_url,
        bounded=config.bounded,
    )


def main() -> None:
    args = sys.argv[1:]
    plain = args[:1] == ["--plain-avro"]
    config = JobConfig.parse(args[1:] if plain else args)
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    configure(t_env, config)
    blackhole = TableDescriptor.for_connector("blackhole").build()
    if plain:
        t_env.from_descriptor(plain_avro_source(config)).execute_insert(blackhole)
        return
    register_decoded_source(t_env, config)
    decoded = t_env.from_path(f"{INTERACTIONS.name}_decoded")
    decoded.execute_insert(blackhole)


if __name__ == "__main__":
    main()
