"""The feature job: every source decoded and checked, every feature group of the catalogue
aggregated, one statement set (one job) writing feature, late-event and dead-letter topics.

Runs on the stack's Flink cluster (`sportsfeat run`, which calls `flink run -pym
flink_jobs.job`) or in a local mini-cluster (`sportsfeat run --local`). `--compile-plan FILE`
writes the statement set as a compiled plan instead (a local JVM, no cluster or broker);
`--plan FILE` runs one (flink_jobs/plans.py: why, and where plans live).
"""

from __future__ import annotations

import sys
from itertools import chain

from pyflink.table import EnvironmentSettings, StatementSet, TableEnvironment, TableResult

from flink_jobs.features.columns import source_columns
from flink_jobs.features.compile import PLANNER_OPTIONS, Mode, catalogue_statements
from flink_jobs.job_config import JobConfig
from flink_jobs.sinks import (
    CHECKPOINT_TIMEOUT_MS,
    dead_letter_sink,
    feature_sink,
    late_sink,
    tile_sink,
)
from flink_jobs.sources import register_kafka_source
from flink_jobs.stack.jars import connector_jars
from flink_jobs.tiles.compile import kind_statements, split
from udfs import register_java_functions


def job_settings(config: JobConfig) -> dict[str, str]:
    """The job's Flink configuration; the reasons are in the comments (README: Checkpointing)."""
    horizon = max(s.dedup_horizon for s in config.sources())
    return {
        "pipeline.name": config.job_name,
        "parallelism.default": str(config.parallelism),
        "table.local-time-zone": "UTC",  # window bounds and timestamps are UTC instants
        # State of non-window operators (deduplication) expires after the dedup horizon;
        # lifetime groups set their own TTL with a STATE_TTL hint.
        "table.exec.state.ttl": f"{int(horizon.total_seconds())} s",
        # Exactly-once: the Kafka sink commits its transaction when a checkpoint completes, so
        # the interval is also the freshness cost of exactly-once output.
        "execution.checkpointing.interval": f"{config.checkpoint_interval_s} s",
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        # A checkpoint that cannot finish in time is abandoned, and a few such failures in a
        # row are tolerated before the job restarts (a slow disk is not an outage).
        "execution.checkpointing.timeout": f"{CHECKPOINT_TIMEOUT_MS} ms",
        "execution.checkpointing.tolerable-failed-checkpoints": "3",
        "execution.checkpointing.min-pause": "1 s",
        # Under backpressure barriers queue behind data: after 30 s aligned, a checkpoint
        # goes unaligned instead of expiring.
        "execution.checkpointing.unaligned.enabled": "true",
        "execution.checkpointing.aligned-checkpoint-timeout": "30 s",
        # Window timers on the heap instead of in RocksDB, and operators passing records on
        # without a defensive copy (the Table runtime's operators and the Java UDAFs keep no
        # input object): 1.18x the throughput, -17 % CPU per event together (full catalogue,
        # 100k users; benchmarks/results/job-options.md). Heap timers are part of each
        # checkpoint's synchronous phase.
        "state.backend.rocksdb.timer-service.factory": "HEAP",
        "pipeline.object-reuse": "true",
        "python.executable": sys.executable,
        **_state_backend(config),
        **PLANNER_OPTIONS,
        **config.flink_option_map(),  # last: an operator's override wins
    }


def _tiles_only(config: JobConfig) -> bool:
    """Whether the job is engine v2's: tiled groups only, no v1 window operator."""
    windowed, kinds = split(config.feature_groups())
    return bool(kinds) and not windowed


def lag_aware_source(config: JobConfig) -> bool:
    """Whether the job reads Kafka with connector kafka-lag-aware: v2's jobs unless told
    `--idleness flink`; v1's never (their released plans name Flink's connector)."""
    return _tiles_only(config) and config.idleness == "lag-aware"


def _state_backend(config: JobConfig) -> dict[str, str]:
    """Engine v2's jobs keep state on the heap: the tile functions hold only open tiles, and
    their per-event state access made RocksDB 2.4x slower (4,651 vs 1,901 events/s read at
    a 20,000 events/s offer, 100k users; docs/engine-v2.md §6). v1's window operators keep
    the cluster's RocksDB, whose state outgrows memory (a day of hop slices per user)."""
    return {"state.backend.type": "hashmap" if _tiles_only(config) else "rocksdb"}


def configure(t_env: TableEnvironment, config: JobConfig) -> None:
    conf = t_env.get_config()
    for key, value in job_settings(config).items():
        conf.set(key, value)


def build(t_env: TableEnvironment, config: JobConfig) -> StatementSet:
    """Register functions, sources and sinks; return the job's statements (one job)."""
    register_java_functions(t_env)
    groups = config.feature_groups()
    fields = {}
    for source in config.sources():
        register_kafka_source(
            t_env, source, config.source_topic(source), config.bootstrap,
            config.consumer_group, config.watermark_emit == "on-event", config.registry_url,
            bounded=config.bounded, lag_aware=lag_aware_source(config),
        )  # fmt: skip
        t_env.create_temporary_table(f"{source.name}_dlq", dead_letter_sink(config, source))
        fields[source.topic] = list(source_columns(source.topic))
    windowed, tiled = split(groups)
    for group in groups:
        t_env.create_temporary_table(f"{group.table}_late", late_sink(config, group))
    for group in windowed:
        t_env.create_temporary_table(f"{group.table}_sink", feature_sink(config, group))
    for kind in tiled:
        t_env.create_temporary_table(
            f"{kind.name}_tile_sink", tile_sink(config, config.tile_topic(kind))
        )
    statements = t_env.create_statement_set()
    v2 = (s for kind in tiled for s in kind_statements(kind))
    for statement in chain(
        catalogue_statements(windowed, fields, Mode.STREAMING, config.sources()), v2
    ):
        if statement.sink:
            statements.add_insert_sql(statement.sql())
        else:
            t_env.execute_sql(statement.sql())
    return statements


def execute_plan(t_env: TableEnvironment, config: JobConfig, plan: str) -> TableResult:
    """Run a compiled plan: its operators get uids from the plan's node ids (PLAN_ONLY), so
    state maps across versions that keep those nodes. The plan names temporary functions and
    tables only, so `build` registers them again first (its statement set goes unused).
    SQL, because PyFlink's execute_plan() fails before 2.3 (FLINK-39384)."""
    build(t_env, config)
    t_env.get_config().set("table.exec.uid.generation", "PLAN_ONLY")
    return t_env.execute_sql("EXECUTE PLAN '" + plan.replace("'", "''") + "'")


def take_option(args: list[str], flag: str) -> tuple[str | None, list[str]]:
    """The value of `flag VALUE` in args, and args without both."""
    if flag not in args:
        return None, args
    i = args.index(flag)
    return args[i + 1], args[:i] + args[i + 2 :]


def main(argv: list[str] | None = None) -> None:
    """`--local JAR;JAR...` runs in a local mini-cluster with those jars, until cancelled;
    `--compile-plan FILE` only compiles; `--plan FILE` runs from a compiled plan."""
    args = sys.argv[1:] if argv is None else argv
    local_jars, args = take_option(args, "--local")
    compile_to, args = take_option(args, "--compile-plan")
    plan, args = take_option(args, "--plan")
    config = JobConfig.parse(args)
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    configure(t_env, config)
    if compile_to is not None:
        # Planning loads the connectors and the UDF classes.
        t_env.get_config().set("pipeline.jars", ";".join(p.as_uri() for p in connector_jars()))
        build(t_env, config).compile_plan().write_to_file(compile_to)
        return
    if local_jars is not None:
        t_env.get_config().set("pipeline.jars", local_jars)
    result = execute_plan(t_env, config, plan) if plan else build(t_env, config).execute()
    if local_jars is not None:
        result.wait()


if __name__ == "__main__":
    main()
