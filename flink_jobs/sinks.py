"""Feature sinks: one Kafka topic per feature group version, keyed by entity, exactly-once.

The online store (Redis) is fed from these topics by the writer (flink_jobs.writer), so
the stateful job stays a pure Table API job whose state survives upgrades.
"""

from __future__ import annotations

from pyflink.table import DataTypes, Schema, TableDescriptor
from pyflink.table.types import DataType

from flink_jobs.job_config import JobConfig

# Must stay below the broker's transaction.max.timeout.ms (15 min) and well above
# checkpoint interval + checkpoint duration + restart time.
TRANSACTION_TIMEOUT_MS = 600_000


def _type(sql_type: str) -> DataType:
    base = {"STRING": DataTypes.STRING(), "BIGINT": DataTypes.BIGINT(),
            "TIMESTAMP(3)": DataTypes.TIMESTAMP(3)}[sql_type.removesuffix(" NOT NULL")]  # fmt: skip
    return base.not_null() if sql_type.endswith("NOT NULL") else base


def feature_topic_sink(
    config: JobConfig, columns: tuple[tuple[str, str], ...], key: str
) -> TableDescriptor:
    builder = Schema.new_builder()
    for name, sql_type in columns:
        builder.column(name, _type(sql_type))
    return (
        TableDescriptor.for_connector("kafka")
        .schema(builder.build())
        .option("topic", config.feature_topic)
        .option("properties.bootstrap.servers", config.bootstrap)
        .option("key.format", "raw")
        .option("key.fields", key)
        .option("value.format", "avro-confluent")
        .option("value.avro-confluent.url", config.registry_url)
        .option("value.fields-include", "ALL")
        .option("sink.delivery-guarantee", "exactly-once")
        .option("sink.transactional-id-prefix", f"{config.job_name}-{config.feature_topic}")
        .option("properties.transaction.timeout.ms", str(TRANSACTION_TIMEOUT_MS))
        .build()
    )
