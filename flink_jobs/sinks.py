"""Feature sinks: one Kafka topic per feature group version, keyed by entity, exactly-once.

The online store (Redis) is fed from these topics by the writer (flink_jobs.writer), so
the stateful job stays a pure Table API job whose state survives upgrades.
"""

from __future__ import annotations

from pyflink.table import TableDescriptor

from flink_jobs.avro_columns import table_schema
from flink_jobs.job_config import JobConfig
from flink_jobs.registry import schema_for_topic

# Must stay within the broker's transaction.max.timeout.ms and well above checkpoint
# interval + checkpoint duration + restart time, or a restart aborts committed output.
TRANSACTION_TIMEOUT_MS = 600_000
BROKER_TRANSACTION_MAX_TIMEOUT_MS = 900_000  # set on the stack's broker
CHECKPOINT_TIMEOUT_MS = 120_000
RESTART_ALLOWANCE_MS = 180_000


def check_transaction_timeout(config: JobConfig) -> None:
    needed = config.checkpoint_interval_s * 1000 + CHECKPOINT_TIMEOUT_MS + RESTART_ALLOWANCE_MS
    if not needed < TRANSACTION_TIMEOUT_MS <= BROKER_TRANSACTION_MAX_TIMEOUT_MS:
        raise ValueError(
            f"Kafka transaction timeout {TRANSACTION_TIMEOUT_MS} ms must exceed checkpoint "
            f"interval + timeout + restart ({needed} ms) and stay within the broker's "
            f"{BROKER_TRANSACTION_MAX_TIMEOUT_MS} ms"
        )


def feature_topic_sink(config: JobConfig, group_topic: str, key: str) -> TableDescriptor:
    """The feature topic of `config`, with the columns and Avro schema of the feature group
    whose released topic is `group_topic` (its schema file: schemas/<group_topic>-value.avsc).

    The value schema is given to the format explicitly, so what lands in the registry is the
    reviewed, documented schema file and not one Flink derives from the columns.
    """
    check_transaction_timeout(config)
    schema = schema_for_topic(group_topic)
    return (
        TableDescriptor.for_connector("kafka")
        .schema(table_schema(schema.schema()))
        .option("topic", config.feature_topic)
        .option("properties.bootstrap.servers", config.bootstrap)
        .option("key.format", "raw")
        .option("key.fields", key)
        .option("value.format", "avro-confluent")
        .option("value.avro-confluent.url", config.registry_url)
        .option("value.avro-confluent.schema", schema.canonical())
        .option("value.fields-include", "ALL")
        .option("sink.delivery-guarantee", "exactly-once")
        .option("sink.transactional-id-prefix", f"{config.job_name}-{config.feature_topic}")
        .option("properties.transaction.timeout.ms", str(TRANSACTION_TIMEOUT_MS))
        .build()
    )
