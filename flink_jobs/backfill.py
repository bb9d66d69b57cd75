"""Backfills: the same feature definitions in Flink's batch mode, over an event file or a
bounded range of a source topic, and point-in-time training rows.

Batch mode has no watermark: every valid, deduplicated event counts (a streaming job would
have routed events behind its watermark to the late topics instead). For events within
the out-of-orderness bound the rows equal the streaming job's (tests/flink prove it).

Point-in-time rows: for each label (entity, time t), the group's row with the latest window
end <= t, if that end is within the group's TTL of t (a model serving at t would have been
told the value expired otherwise); nothing from after t ever leaks into a row. Lifetime
groups are left out: batch computes their final state, not its history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyflink.table import (
    EnvironmentSettings,
    Schema,
    StatementSet,
    TableDescriptor,
    TableEnvironment,
)

from flink_jobs.features.avro import feature_schema
from flink_jobs.features.columns import avro_columns, source_columns
from flink_jobs.features.compile import (
    PLANNER_OPTIONS,
    Mode,
    Statement,
    catalogue_statements,
    point_in_time,
)
from flink_jobs.features.model import FeatureGroup, Lifetime, Source
from flink_jobs.progress import Progress
from flink_jobs.sources import register_file_source, register_kafka_source
from flink_jobs.stack.jars import connector_jars
from udfs import register_java_functions


@dataclass(frozen=True)
class TopicRange:
    """A source topic read from its earliest offset to its end offsets at start (bounded)."""

    bootstrap: str
    registry_url: str
    topic: str


Events = Path | TopicRange


def batch_environment() -> TableEnvironment:
    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    config = t_env.get_config()
    config.set("table.local-time-zone", "UTC")
    for key, value in PLANNER_OPTIONS.items():
        config.set(key, value)
    config.set("pipeline.jars", ";".join(p.as_uri() for p in connector_jars()))
    register_java_functions(t_env)
    return t_env


def _register_events(t_env: TableEnvironment, source: Source, events: Events) -> None:
    if isinstance(events, Path):
        register_file_source(t_env, source, events)
    else:
        register_kafka_source(
            t_env, source, events.topic, events.bootstrap, "sportsfeat-backfill",
            emit_on_event=False, registry_url=events.registry_url, bounded=True,
        )  # fmt: skip


def _json_table(
    t_env: TableEnvironment, name: str, columns: list[tuple[str, str]], path: Path
) -> None:
    schema = Schema.new_builder()
    for column, sql_type in columns:
        schema.column(column, sql_type)
    t_env.create_temporary_table(
        name,
        TableDescriptor.for_connector("filesystem")
        .schema(schema.build())
        .option("path", str(path))
        .format("json")
        .build(),
    )


def _feature_columns(group: FeatureGroup) -> list[tuple[str, str]]:
    return [
        (c.name, c.sql + ("" if c.nullable else " NOT NULL"))
        for c in avro_columns(feature_schema(group))
    ]


def _plan(
    t_env: TableEnvironment, groups: tuple[FeatureGroup, ...], source: Source, out: Path,
    labels: Path | None,
) -> StatementSet:  # fmt: skip
    """The job's inserts: each group's rows and, with `labels`, its training rows."""
    fields = {source.topic: list(source_columns(source.topic))}
    statements = t_env.create_statement_set()
    for statement in catalogue_statements(groups, fields, Mode.BATCH):
        if statement.sink:  # the group's rows: a view, read by the file sink and the labels
            view = Statement(statement.name.removesuffix("_sink") + "_features", statement.query)
            t_env.execute_sql(view.sql())
        else:
            t_env.execute_sql(statement.sql())
    if labels is not None:
        _json_table(t_env, "labels_file", [("entity", "STRING"), ("at", "TIMESTAMP(3)")], labels)
        t_env.execute_sql("CREATE TEMPORARY VIEW `labels` AS SELECT * FROM `labels_file`")
    for group in groups:
        _json_table(t_env, f"{group.table}_out", _feature_columns(group), out / group.topic)
        statements.add_insert(f"{group.table}_out", t_env.from_path(f"{group.table}_features"))
        if labels is None or isinstance(group.window, Lifetime):
            continue
        columns = [("entity", "STRING"), ("at", "TIMESTAMP(3)"), ("feature_time", "TIMESTAMP(3)")]
        columns += [(n, t.removesuffix(" NOT NULL")) for n, t in _feature_columns(group)[3:]]
        _json_table(t_env, f"{group.table}_training", columns, out / "training" / group.topic)
        statements.add_insert(f"{group.table}_training", t_env.sql_query(point_in_time(group)))
    return statements


def backfill(
    groups: tuple[FeatureGroup, ...],
    events: Events,
    out: Path,
    labels: Path | None = None,
    say: Callable[[str], None] = print,
) -> None:
    """Write each group's rows to `out/<topic>/` and, with `labels` (JSON lines of
    {"entity": ..., "at": "yyyy-MM-dd HH:mm:ss.SSS"}), training rows to `out/training/<topic>/`."""
    sources = {g.source.topic: g.source for g in groups}
    if len(sources) != 1:
        raise ValueError(f"one source per backfill, got {sorted(sources)}")
    (source,) = sources.values()
    with Progress("backfill", 3, "phases", say) as bar:
        bar.update(0, "starting Flink in batch mode")
        t_env = batch_environment()
        _register_events(t_env, source, events)
        bar.update(1, f"planning {len(groups)} groups")
        statements = _plan(t_env, groups, source, out, labels)
        bar.say(f"backfill: {len(groups)} groups from {events} into {out}")
        bar.update(2, "running the batch job")
        statements.execute().wait()
        bar.update(3)
