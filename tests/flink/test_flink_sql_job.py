"""The plain Flink SQL comparison job run by Flink (streaming, local mini-cluster): its
queries over a small fixed event log instead of Kafka, against counts and sums computed
here in plain Python; and the whole job, Kafka source and sinks included, planned."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pyflink.table import TableEnvironment

from benchmarks.feature_sets import PEER_GROUPS
from benchmarks.flink_sql_job import QUERIES, SOURCE, build
from flink_jobs.features.catalogue import INTERACTIONS
from flink_jobs.job_config import JobConfig
from flink_jobs.sources import register_file_source
from tests import timeline
from tests.flink.conftest import table_env

pytestmark = pytest.mark.flink

Event = dict[str, Any]


def every(_event: Event) -> bool:
    return True


def one(_event: Event) -> int:
    return 1


def watched(event: Event) -> int:
    return int(event["watch_time_ms"])


def kind(name: str) -> Callable[[Event], bool]:
    return lambda event: event["event_type"] == name


# Written from the catalogue's definitions, not from the SQL: group -> (entity, window size
# and slide in ms, feature -> (which events it takes, the value each adds)).
REFERENCE: dict[str, tuple[str, int, int, dict[str, tuple[Callable[[Event], bool], Any]]]] = {
    "user_activity": (
        "user_id", 60_000, 60_000,
        {"user_interactions_count_1m": (every, one), "user_watch_ms_sum_1m": (every, watched)},
    ),
    "user_engagement_5m": (
        "user_id", 300_000, 60_000,
        {
            "user_views_count_5m": (kind("view"), one),
            "user_plays_count_5m": (kind("play"), one),
            "user_watch_ms_sum_5m": (every, watched),
        },
    ),
    "content_trending": (
        "content_id", 600_000, 60_000,
        {"content_views_count_10m": (kind("view"), one)},
    ),
}  # fmt: skip

Key = tuple[str, int, int]  # entity, window start and end (epoch ms)


def windows(t: int, size: int, slide: int) -> Iterator[tuple[int, int]]:
    """The [start, end) windows holding event time t: starts on the slide, t inside."""
    start = t - t % slide
    while start > t - size:
        yield start, start + size
        start -= slide


def reference(events: list[Event], group: str) -> dict[Key, dict[str, int]]:
    entity, size, slide, features = REFERENCE[group]
    rows: dict[Key, dict[str, int]] = {}
    for event in events:
        for start, end in windows(event["event_time"], size, slide):
            row = rows.setdefault((event[entity], start, end), dict.fromkeys(features, 0))
            for name, (takes, value) in features.items():
                if takes(event):
                    row[name] += value(event)
    return rows


@pytest.fixture(scope="module")
def events() -> list[Event]:
    """Out of order within the 5 s bound (nothing is late), no duplicates: the plain job
    does not deduplicate, and the benchmark's events are unique."""
    return timeline.build(seed=5, shape=timeline.LogShape(duplicate_share=0.0))


@pytest.fixture(scope="module")
def t_env(events: list[Event], tmp_path_factory: pytest.TempPathFactory) -> TableEnvironment:
    """The queries' source table, read from a file with the Kafka source's 5 s watermark."""
    log = timeline.write_json_lines(events, tmp_path_factory.mktemp("log") / "events.json")
    env = table_env(streaming=True)
    register_file_source(env, INTERACTIONS, log)
    env.execute_sql(
        f"CREATE TEMPORARY VIEW {SOURCE} AS SELECT * FROM `{INTERACTIONS.name}_decoded`"
    )
    return env


@pytest.mark.parametrize("group", PEER_GROUPS)
def test_counts_and_sums_per_window_match_a_python_reference(
    t_env: TableEnvironment, events: list[Event], group: str
) -> None:
    entity, _, _, features = REFERENCE[group]
    table = t_env.sql_query(QUERIES[group])
    names = list(table.get_resolved_schema().get_column_names())
    got: dict[Key, dict[str, int]] = {}
    with table.execute().collect() as results:
        for row in results:
            values = dict(zip(names, row, strict=True))
            key = (values[entity], values["window_start"], values["window_end"])
            assert key not in got, f"{group}: window {key} emitted twice"
            got[key] = {name: values[name] for name in features}
    want = reference(events, group)
    assert want, f"{group}: the log must produce windows"
    assert got.keys() == want.keys()  # the bounds as epoch ms, every window with rows
    wrong = [(key, got[key], want[key]) for key in want if got[key] != want[key]]
    assert not wrong, f"{group}: {len(wrong)} windows differ, e.g. {wrong[:3]}"


def test_the_whole_job_plans_with_one_kafka_scan_for_every_group() -> None:
    """Kafka source and sinks as submitted (planning reaches no broker or registry): the
    options validate, each INSERT fits its sink, and the three aggregations share one scan."""
    config = JobConfig(bootstrap="localhost:1", registry_url="http://localhost:1", namespace="t")
    plan = build(table_env(streaming=True), config).explain()
    execution = plan.split("== Optimized Execution Plan ==", 1)[1]
    assert execution.count("Sink(table=") == len(PEER_GROUPS), execution
    assert execution.count("TableSourceScan(") == 1, execution
