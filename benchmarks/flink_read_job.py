"""The read-and-decode limit: the feature job's own Kafka source (raw bytes decoded by
DECODE_AVRO, event time and watermark) into a blackhole sink, nothing else.

Submitted by the benchmark with `flink run -py` and the feature job's command line (only
the source, registry, consumer group, name, parallelism and checkpoint options matter);
checkpoints as the feature job's, so the comparison differs only in the work per event.
"""

from __future__ import annotations

import sys

from pyflink.table import EnvironmentSettings, TableDescriptor, TableEnvironment

from flink_jobs.features.catalogue import INTERACTIONS
from flink_jobs.job import configure
from flink_jobs.job_config import JobConfig
from flink_jobs.sources import register_kafka_source
from udfs import register_java_functions


def main() -> None:
    config = JobConfig.parse(sys.argv[1:])
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    configure(t_env, config)
    register_java_functions(t_env)
    register_kafka_source(
        t_env,
        INTERACTIONS,
        config.source_topic(INTERACTIONS),
        bootstrap=config.bootstrap,
        group_id=config.consumer_group,
        emit_on_event=False,
        registry_url=config.registry_url,
    )
    decoded = t_env.from_path(f"{INTERACTIONS.name}_decoded")
    decoded.execute_insert(TableDescriptor.for_connector("blackhole").build())


if __name__ == "__main__":
    main()
