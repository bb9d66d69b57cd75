"""The plain Flink SQL comparison job, read as text (no JVM): each group's window, key,
features and filters against the catalogue, its namespaced Kafka sinks, and how the
benchmark submits it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import flink_sql_job, kafka_io, systems
from benchmarks.feature_sets import PEER_GROUPS
from benchmarks.flink_rest import FlinkRest
from benchmarks.flink_sql_job import (
    KEYS,
    LEFT_OUT,
    QUERIES,
    SINK_COLUMNS,
    SOURCE,
    sinks,
    statements,
    topics,
)
from benchmarks.systems import FlinkJob, Work
from flink_jobs import pipeline, submit
from flink_jobs.features.catalogue import CATALOGUE, INTERACTIONS
from flink_jobs.features.columns import feature_type, source_columns
from flink_jobs.features.compile import interval, predicate
from flink_jobs.features.model import Agg, Feature, FeatureGroup, Hopping, Tumbling, Where
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import Settings
from flink_jobs.topic_tail import as_ms

CONFIG = JobConfig(bootstrap="broker:9092", registry_url="http://registry", namespace="s7")
GROUPS = {g.name: g for g in CATALOGUE if g.name in PEER_GROUPS}
BOUNDS = ("window_start", "window_end")


def flat(sql: str) -> str:
    return " ".join(sql.split())


def plain(where: Where) -> str:
    """The catalogue's predicate as a user writes it (no quoted identifiers)."""
    return predicate(where).replace("`", "")


def select_items(query: str) -> list[tuple[str, str]]:
    """(alias, expression) of the SELECT list, written one item per line."""
    body = query.split("SELECT", 1)[1].split("\nFROM", 1)[0]
    items = []
    for line in body.strip().splitlines():
        expression, _, alias = line.strip().rstrip(",").rpartition(" AS ")
        items.append((alias, expression or alias))
    return items


def sink_columns(group: str) -> list[tuple[str, str]]:
    """(name, type) of the sink table's columns, one per line."""
    columns = []
    for line in SINK_COLUMNS[group].strip().splitlines():
        name, _, sql_type = line.strip().rstrip(",").partition(" ")
        columns.append((name, sql_type))
    return columns


def expected_call(feature: Feature) -> str:
    """The built-in aggregate computing the feature with the catalogue's semantics."""
    column = feature.column
    call = {
        Agg.COUNT: "COUNT(*)",
        Agg.SUM: f"SUM({column})",
        Agg.MIN: f"MIN({column})",
        Agg.MAX: f"MAX({column})",
        Agg.AVG: f"AVG(CAST({column} AS DOUBLE))",
        Agg.VARIANCE: f"VAR_POP(CAST({column} AS DOUBLE))",
        Agg.STDDEV: f"STDDEV_POP(CAST({column} AS DOUBLE))",
        Agg.COUNT_DISTINCT: f"COUNT(DISTINCT {column})",
    }[feature.agg]
    if feature.where:
        call += f" FILTER (WHERE {' AND '.join(plain(w) for w in feature.where)})"
    return call


def window_tvf(group: FeatureGroup) -> str:
    table = f"TABLE {SOURCE}, DESCRIPTOR({group.source.event_time})"
    match group.window:
        case Tumbling(size):
            return f"TUMBLE({table}, {interval(size)})"
        case Hopping(size, slide):
            return f"HOP({table}, {interval(slide)}, {interval(size)})"
    raise AssertionError(f"{group.name}: {group.window} is no window the peer computes")


def test_the_job_computes_the_peer_groups_in_one_insert_each() -> None:
    inserts = statements()
    assert list(inserts) == list(QUERIES) == list(PEER_GROUPS) == list(GROUPS)
    for name, insert in inserts.items():
        assert insert.startswith(f"INSERT INTO sqlfeatures_{name}\nSELECT")
        assert f"CREATE TEMPORARY TABLE sqlfeatures_{name} (" in sinks(CONFIG)[name]


@pytest.mark.parametrize("name", PEER_GROUPS)
def test_one_window_tvf_with_the_catalogue_window_and_key(name: str) -> None:
    group, query = GROUPS[name], flat(QUERIES[name])
    assert query.count("TABLE(") == 1
    assert f"FROM TABLE({window_tvf(group)}) " in query
    assert KEYS[name] == group.entity
    assert query.endswith(f"GROUP BY window_start, window_end, {group.entity}")
    assert all(plain(w) in query for w in group.where)  # a group filter, if it had one


@pytest.mark.parametrize("name", PEER_GROUPS)
def test_every_feature_is_computed_or_left_out_with_a_reason(name: str) -> None:
    """From the catalogue: a feature added to a group fails here until it is handled."""
    group = GROUPS[name]
    items = select_items(QUERIES[name])
    assert [alias for alias, _ in items[:3]] == [group.entity, *BOUNDS]
    computed = dict(items[3:])
    left_out = {
        key.split(".", 1)[1]: why for key, why in LEFT_OUT.items() if key.startswith(f"{name}.")
    }
    assert not computed.keys() & left_out.keys()
    assert computed.keys() | left_out.keys() == {f.name for f in group.features}
    assert all(len(why) > 20 for why in left_out.values())
    for feature in group.features:
        if feature.name in computed:
            assert computed[feature.name] == expected_call(feature), feature.name


def test_left_out_names_only_features_of_the_peer_groups() -> None:
    known = {f"{g.name}.{f.name}" for g in GROUPS.values() for f in g.features}
    assert LEFT_OUT.keys() <= known
    kinds = {f.agg for g in GROUPS.values() for f in g.features if f"{g.name}.{f.name}" in LEFT_OUT}
    assert kinds == {Agg.APPROX_DISTINCT, Agg.PERCENTILE, Agg.DECAY_SUM}


@pytest.mark.parametrize("name", PEER_GROUPS)
def test_the_sink_holds_the_query_columns_with_the_feature_types(name: str) -> None:
    group, columns = GROUPS[name], sink_columns(name)
    assert [c for c, _ in columns] == [alias for alias, _ in select_items(QUERIES[name])]
    types = dict(columns)
    assert (types[group.entity], types["window_start"], types["window_end"]) == (
        "STRING",
        "BIGINT",
        "BIGINT",
    )
    source = source_columns(INTERACTIONS.topic)
    for feature in group.features:
        if feature.name in types:
            assert types[feature.name] == feature_type(feature, source), feature.name


@pytest.mark.parametrize("name", PEER_GROUPS)
def test_sinks_are_namespaced_kafka_topics_keyed_by_entity_with_json_values(name: str) -> None:
    ddl = flat(sinks(CONFIG)[name])
    for option in (
        "'connector' = 'kafka'",
        f"'topic' = 'sqlfeatures.{name}.s7'",
        "'properties.bootstrap.servers' = 'broker:9092'",
        "'key.format' = 'raw'",
        f"'key.fields' = '{GROUPS[name].entity}'",
        "'value.format' = 'json'",
    ):
        assert option in ddl
    assert "upsert-kafka" not in ddl
    assert "sink.delivery-guarantee" not in ddl  # Flink's default: at-least-once


def test_topics_per_namespace() -> None:
    assert topics("s7") == [f"sqlfeatures.{g}.s7" for g in PEER_GROUPS]
    assert topics("") == [f"sqlfeatures.{g}" for g in PEER_GROUPS]
    assert "sqlfeatures.user_activity.s7" in flat(sinks(CONFIG)["user_activity"])


@pytest.mark.parametrize("name", PEER_GROUPS)
def test_rows_carry_the_window_bounds_as_epoch_milliseconds(name: str) -> None:
    """BIGINT bounds are JSON numbers, which the freshness watch reads with as_ms (a JSON
    timestamp would be a string)."""
    items = dict(select_items(QUERIES[name]))
    for bound in BOUNDS:
        assert items[bound] == f"UNIX_TIMESTAMP(CAST({bound} AS STRING)) * 1000"
    row = json.dumps({GROUPS[name].entity: "u1", "window_start": 1_767_225_600_000,
                      "window_end": 1_767_225_660_000}).encode()  # fmt: skip
    assert as_ms(kafka_io.json_decoder(row)["window_end"]) == 1_767_225_660_000


def test_the_bench_creates_the_topics_then_runs_the_job_without_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, object]] = []

    def no_prepare(*_args: object) -> None:
        raise AssertionError("the plain SQL job reads its source as it is")

    def flink_run(_settings: Settings, argv: list[str], _what: str) -> str:
        calls.append(("run", argv))
        return "job-1"

    def ensure(_bootstrap: str, names: list[str], partitions: int) -> None:
        calls.append(("topics", (names, partitions)))

    monkeypatch.setattr(kafka_io, "end_offsets", lambda _b, _t: {0: 9, 1: 9, 2: 9})
    monkeypatch.setattr(systems, "ensure_topics", ensure)
    monkeypatch.setattr(pipeline, "prepare", no_prepare)
    monkeypatch.setattr(submit, "flink_run", flink_run)
    monkeypatch.setattr(FlinkRest, "wait_running", lambda _self, _id, _timeout: 0.0)
    monkeypatch.setattr(systems, "stack_pid", lambda _service, process: [len(process)])
    job = FlinkJob(Settings(state_dir=tmp_path), "sql", CONFIG, Work.PLAIN_SQL)
    job.start()
    assert calls[0] == ("topics", (flink_sql_job.topics("s7"), 3))
    kind, argv = calls[1]
    assert kind == "run" and isinstance(argv, list)
    assert argv[:2] == ["-pym", "benchmarks.flink_sql_job"]
    assert JobConfig.parse(argv[2:]) == CONFIG
    assert job.job_id == "job-1"
    assert job.roles() == {"TaskManager": [len("flink-taskmanager")]}


def test_the_read_jobs_keep_their_entry_points() -> None:
    assert Work.READ.entry() == ["-py", str(systems.READ_JOB)]
    assert Work.READ_PLAIN_AVRO.entry() == ["-py", str(systems.READ_JOB), "--plain-avro"]
    with pytest.raises(ValueError, match=r"flink_jobs\.submit"):
        Work.FEATURES.entry()
