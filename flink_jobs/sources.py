"""Source tables: each makes the view `<src>_decoded` that the generated SQL starts from.

Kafka: the record value is read as raw bytes and decoded by the Java function DECODE_AVRO
(udfs/java) against the topic's reviewed schema, so an undecodable record becomes a row
with `_error` set (a dead letter) instead of a failed task and a restart loop (Flink's
avro-confluent format has no way to skip a bad record). The event-time column decodes the
same bytes (DECODE_AVRO memoizes the last record, so it decodes once); a record without a
plausible event time (undecodable, or further ahead of its Kafka timestamp than the source
allows) gets the epoch, so it can never move the watermark.

Idleness: engine v2's jobs read with connector `kafka-lag-aware` (udfs/java, package
dev.sportsfeat.udfs.kafka; docs/engine-v2.md section 4), Flink's Kafka connector whose split
stops holding the watermark only once it has emitted nothing for `Source.idle_timeout` *and* a
lag check finds its partition read to the end. Flink's `scan.watermark.idle-timeout` also lets
a partition with unread records fall behind the watermark; v1's jobs keep it, because their
released plans (flink_jobs/features/released/plans) name Flink's connector.

File: JSON lines of already-decoded events, for tests and batch backfills of exported logs.

The decoded view's columns: every Avro field, `event_time` (rowtime, with the source's
bounded out-of-orderness watermark), `_claimed_time` (the event time the record claims),
`_proc_time` (processing time, for deduplication),
`_error`, and the origin `_value`, `_topic`, `_partition`, `_offset`, `_kafka_ts`.
"""

from __future__ import annotations

import json
from pathlib import Path

from pyflink.table import DataTypes, Schema, TableDescriptor, TableEnvironment

from flink_jobs.features.columns import avro_columns
from flink_jobs.features.compile import interval
from flink_jobs.features.model import Source
from flink_jobs.registry import schema_for_topic
from flink_jobs.settings import load_settings

EPOCH = "TIMESTAMP '1970-01-01 00:00:00'"
LAG_AWARE_CONNECTOR = "kafka-lag-aware"
LAG_CHECK_INTERVAL = "1 s"  # a quiet partition's watermark trails the others' by about this
METADATA = (
    ("_topic", "STRING", "topic"),
    ("_partition", "INT", "partition"),
    ("_offset", "BIGINT", "offset"),
    ("_kafka_ts", "TIMESTAMP_LTZ(3)", "timestamp"),
)


def _watermark(source: Source) -> str:
    seconds = source.max_out_of_orderness.total_seconds()
    return f"`{source.event_time}` - INTERVAL '{seconds:g}' SECOND"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fields(source: Source) -> list[str]:
    return [c.name for c in avro_columns(schema_for_topic(source.topic).schema())]


def kafka_options(
    source: Source, topic: str, bootstrap: str, group_id: str, emit_on_event: bool,
    bounded: bool = False, lag_aware: bool = False,
) -> list[tuple[str, str]]:  # fmt: skip
    """The Kafka table's connector options (`kafka_source`), security included."""
    idle = f"{source.idle_timeout.total_seconds():g} s"
    idleness = (
        [("lag-aware.quiet-after", idle), ("lag-aware.check-interval", LAG_CHECK_INTERVAL)]
        if lag_aware
        else [("scan.watermark.idle-timeout", idle)]
    )
    options = [
        ("topic", topic),
        ("properties.bootstrap.servers", bootstrap),
        ("properties.group.id", group_id),
        ("properties.isolation.level", "read_committed"),
        ("scan.startup.mode", "earliest-offset" if bounded else "group-offsets"),
        ("properties.auto.offset.reset", "earliest"),
        *idleness,
        ("value.format", "raw"),
    ]
    # prod: SASL_SSL
    options += [(f"properties.{k}", v) for k, v in load_settings().kafka_java_security().items()]
    if emit_on_event:  # a watermark after every record: lateness exactly as the reference
        options.append(("scan.watermark.emit.strategy", "on-event"))
    if bounded:
        options.append(("scan.bounded.mode", "latest-offset"))
    return options


def kafka_source(
    source: Source, topic: str, bootstrap: str, group_id: str, emit_on_event: bool,
    registry_url: str, bounded: bool = False, lag_aware: bool = False,
) -> TableDescriptor:  # fmt: skip
    """The topic as raw bytes decoded by DECODE_AVRO; `bounded`: from the earliest offsets to
    the end offsets at start (a backfill), else from the group's committed offsets on;
    `lag_aware`: connector kafka-lag-aware, else Flink's kafka."""
    reader = json.dumps(schema_for_topic(source.topic).schema(), separators=(",", ":"))
    decoded = f"DECODE_AVRO(`value`, {_quote(reader)}, {_quote(registry_url)})"
    claimed = f"{decoded}.`{source.event_time}`"
    horizon = f"CAST(`_kafka_ts` AS TIMESTAMP(3)) + {interval(source.max_future)}"
    schema = Schema.new_builder().column("value", DataTypes.BYTES())
    for name, data_type, key in METADATA:
        schema.column_by_metadata(name, data_type, key, True)
    schema.column_by_expression("_event", decoded)
    schema.column_by_expression("_proc_time", "PROCTIME()")
    schema.column_by_expression(
        source.event_time,
        f"COALESCE(CASE WHEN {claimed} <= {horizon} THEN {claimed} END, {EPOCH})",
    )
    schema.watermark(source.event_time, _watermark(source))
    connector = LAG_AWARE_CONNECTOR if lag_aware else "kafka"
    descriptor = TableDescriptor.for_connector(connector).schema(schema.build())
    options = kafka_options(source, topic, bootstrap, group_id, emit_on_event, bounded, lag_aware)
    for key, value in options:
        descriptor.option(key, value)
    return descriptor.build()


def register_kafka_source(
    t_env: TableEnvironment, source: Source, topic: str, bootstrap: str, group_id: str,
    emit_on_event: bool, registry_url: str, bounded: bool = False, lag_aware: bool = False,
) -> None:  # fmt: skip
    table = f"{source.name}_kafka"
    descriptor = kafka_source(
        source, topic, bootstrap, group_id, emit_on_event, registry_url, bounded, lag_aware
    )
    t_env.create_temporary_table(table, descriptor)
    fields = [f"`_event`.`{f}` AS `{f}`" for f in _fields(source) if f != source.event_time]
    t_env.execute_sql(
        f"CREATE TEMPORARY VIEW `{source.name}_decoded` AS SELECT {', '.join(fields)}, "
        f"`{source.event_time}`, `_event`.`{source.event_time}` AS `_claimed_time`, "
        "`_event`.`_error` AS `_error`, `value` AS `_value`, "
        f"`_topic`, `_partition`, `_offset`, `_kafka_ts`, `_proc_time` FROM `{table}`"
    )


def register_file_source(t_env: TableEnvironment, source: Source, path: Path) -> None:
    """JSON lines of decoded events (`event_time` as 'yyyy-MM-dd HH:mm:ss.SSS', UTC)."""
    schema = Schema.new_builder()
    for column in avro_columns(schema_for_topic(source.topic).schema()):
        schema.column(column.name, column.sql + ("" if column.nullable else " NOT NULL"))
    schema.column_by_expression("_claimed_time", f"`{source.event_time}`")
    schema.column_by_expression("_proc_time", "PROCTIME()")
    schema.column_by_expression("_error", "CAST(NULL AS STRING)")
    schema.column_by_expression("_value", "CAST(NULL AS BYTES)")
    for name, data_type, _ in METADATA:
        schema.column_by_expression(name, f"CAST(NULL AS {data_type})")
    schema.watermark(source.event_time, _watermark(source))
    table = f"{source.name}_file"
    t_env.create_temporary_table(
        table,
        TableDescriptor.for_connector("filesystem")
        .schema(schema.build())
        .option("path", str(path))
        .format("json")
        .build(),
    )
    t_env.execute_sql(f"CREATE TEMPORARY VIEW `{source.name}_decoded` AS SELECT * FROM `{table}`")
