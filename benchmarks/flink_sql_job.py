"""The peer's groups (benchmarks.feature_sets.PEER_GROUPS) as a Flink user would write them:
plain Flink SQL, one window TVF aggregation per group over Flink's own avro-confluent
source (flink_read_job.plain_avro_source), built-in aggregates only, one statement set.

Every feature built-in aggregates express is computed with the catalogue's window, key,
filters and types (AVG over DOUBLE: Flink's AVG of a BIGINT is a BIGINT); the others, and
why, are in LEFT_OUT. Unlike the feature job it has no Java UDF, no validation or
dead-letter topic (one bad record fails the job), no deduplication by event id and no
late-event topic (the window operator drops late rows silently). The benchmark's events
are valid, unique and never late, so for the features both compute its rows are the
feature job's. COUNT(DISTINCT) is Flink's own: state in a MapView, which the feature job
replaced with EXACT_DISTINCT for its cost (flink_jobs.features.compile._call).

Output, per group, the Kafka topic `sqlfeatures.<group>.<namespace>` (`topics`): the Kafka
connector with Flink's default delivery guarantee, at-least-once (no transactions: a row is
visible to a read_committed consumer once produced, not when a checkpoint commits it, and
a restart may emit a window again). Record key: the entity id as raw UTF-8; value: JSON
with the entity, `window_start` and `window_end` as epoch milliseconds (BIGINT, which
flink_jobs.topic_tail.as_ms reads; a JSON timestamp would be a string), and the features.
The bounds are UNIX_TIMESTAMP(CAST(bound AS STRING)) * 1000: seconds in the session time
zone (UTC, set by flink_jobs.job.configure), exact since every window is minute-aligned.

Submitted by the benchmark with `flink run -pym benchmarks.flink_sql_job` and the feature
job's command line (source, registry, consumer group, name, namespace, parallelism and
checkpoint options matter); configured as the feature job (flink_jobs.job.configure), with
the same idle-source timeout, so the comparison differs only in the work per event.
"""

from __future__ import annotations

import sys

from pyflink.table import EnvironmentSettings, StatementSet, TableEnvironment

from benchmarks.feature_sets import PEER_GROUPS
from benchmarks.flink_read_job import plain_avro_source
from flink_jobs.features.catalogue import INTERACTIONS
from flink_jobs.job import configure
from flink_jobs.job_config import JobConfig

SOURCE = "interactions"  # the table every query reads
IDLE_TIMEOUT = "table.exec.source.idle-timeout"
GROUPS = PEER_GROUPS

QUERIES = {  # group -> the SELECT whose rows go to its topic (columns as in SINK_COLUMNS)
    "user_activity": """
SELECT
  user_id,
  UNIX_TIMESTAMP(CAST(window_start AS STRING)) * 1000 AS window_start,
  UNIX_TIMESTAMP(CAST(window_end AS STRING)) * 1000 AS window_end,
  COUNT(*) AS user_interactions_count_1m,
  SUM(watch_time_ms) AS user_watch_ms_sum_1m
FROM TABLE(TUMBLE(TABLE interactions, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, user_id
""",
    "user_engagement_5m": """
SELECT
  user_id,
  UNIX_TIMESTAMP(CAST(window_start AS STRING)) * 1000 AS window_start,
  UNIX_TIMESTAMP(CAST(window_end AS STRING)) * 1000 AS window_end,
  COUNT(*) FILTER (WHERE event_type = 'view') AS user_views_count_5m,
  COUNT(*) FILTER (WHERE event_type = 'play') AS user_plays_count_5m,
  SUM(watch_time_ms) AS user_watch_ms_sum_5m,
  AVG(CAST(watch_time_ms AS DOUBLE)) FILTER (WHERE watch_time_ms > 0) AS user_watch_ms_avg_5m,
  COUNT(DISTINCT content_id) AS user_content_distinct_5m
FROM TABLE(HOP(TABLE interactions, DESCRIPTOR(event_time),
  INTERVAL '1' MINUTE, INTERVAL '5' MINUTE))
GROUP BY window_start, window_end, user_id
""",
    "content_trending": """
SELECT
  content_id,
  UNIX_TIMESTAMP(CAST(window_start AS STRING)) * 1000 AS window_start,
  UNIX_TIMESTAMP(CAST(window_end AS STRING)) * 1000 AS window_end,
  COUNT(*) FILTER (WHERE event_type = 'view') AS content_views_count_10m
FROM TABLE(HOP(TABLE interactions, DESCRIPTOR(event_time),
  INTERVAL '1' MINUTE, INTERVAL '10' MINUTE))
GROUP BY window_start, window_end, content_id
""",
}

SINK_COLUMNS = {  # group -> the columns of its sink table, as its query emits them
    "user_activity": """
  user_id STRING,
  window_start BIGINT,
  window_end BIGINT,
  user_interactions_count_1m BIGINT,
  user_watch_ms_sum_1m BIGINT""",
    "user_engagement_5m": """
  user_id STRING,
  window_start BIGINT,
  window_end BIGINT,
  user_views_count_5m BIGINT,
  user_plays_count_5m BIGINT,
  user_watch_ms_sum_5m BIGINT,
  user_watch_ms_avg_5m DOUBLE,
  user_content_distinct_5m BIGINT""",
    "content_trending": """
  content_id STRING,
  window_start BIGINT,
  window_end BIGINT,
  content_views_count_10m BIGINT""",
}

KEYS = {  # group -> its entity column: the record key
    "user_activity": "user_id",
    "user_engagement_5m": "user_id",
    "content_trending": "content_id",
}

_SKETCH = "no built-in sketch aggregate (a UDAF);"
LEFT_OUT = {  # `group.feature` -> why plain Flink SQL does not compute it
    "content_trending.content_viewers_approx_distinct_10m": (
        f"an HLL estimate: {_SKETCH} COUNT(DISTINCT user_id) would be another feature, "
        "exact, with every viewer of a content in state per window"
    ),
    "content_trending.content_watch_ms_p50_10m": (
        f"a KLL estimate: {_SKETCH} Flink's exact PERCENTILE would be another feature, "
        "with every value in state per window"
    ),
    "content_trending.content_watch_ms_p90_10m": (
        f"a KLL estimate: {_SKETCH} Flink's exact PERCENTILE would be another feature, "
        "with every value in state per window"
    ),
    "content_trending.content_popularity_decay_10m": (
        "a time-decayed sum as of the latest view: no built-in aggregate (a UDAF)"
    ),
}


def topic(group: str, namespace: str) -> str:
    return f"sqlfeatures.{group}.{namespace}" if namespace else f"sqlfeatures.{group}"


def topics(namespace: str) -> list[str]:
    """The job's output topics, one per group."""
    return [topic(group, namespace) for group in GROUPS]


def sink_table(group: str) -> str:
    return f"sqlfeatures_{group}"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sinks(config: JobConfig) -> dict[str, str]:
    """Group -> the DDL of its sink table: Kafka, keyed by the entity, JSON values."""
    return {
        group: f"""CREATE TEMPORARY TABLE {sink_table(group)} ({SINK_COLUMNS[group]}
) WITH (
  'connector' = 'kafka',
  'topic' = {_quote(topic(group, config.namespace))},
  'properties.bootstrap.servers' = {_quote(config.bootstrap)},
  'key.format' = 'raw',
  'key.fields' = '{KEYS[group]}',
  'value.format' = 'json'
)"""
        for group in GROUPS
    }


def statements() -> dict[str, str]:
    """Group -> its INSERT (the sinks must exist: `sinks`)."""
    return {group: f"INSERT INTO {sink_table(group)}{QUERIES[group]}" for group in GROUPS}


def build(t_env: TableEnvironment, config: JobConfig) -> StatementSet:
    """The source, the sinks and one statement set with an INSERT per group (one job)."""
    idle = INTERACTIONS.idle_timeout.total_seconds()  # as the feature job's source
    if IDLE_TIMEOUT not in config.flink_option_map():  # an operator's override wins
        t_env.get_config().set(IDLE_TIMEOUT, f"{idle:g} s")
    t_env.create_temporary_table(SOURCE, plain_avro_source(config))
    for ddl in sinks(config).values():
        t_env.execute_sql(ddl)
    statement_set = t_env.create_statement_set()
    for insert in statements().values():
        statement_set.add_insert_sql(insert)
    return statement_set


def main() -> None:
    config = JobConfig.parse(sys.argv[1:])
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    configure(t_env, config)
    build(t_env, config).execute()


if __name__ == "__main__":
    main()
