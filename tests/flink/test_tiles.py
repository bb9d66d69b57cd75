"""Engine v2 in a local Flink: the tile function's tiles, merged on read at many request times,
equal the independent reference (flink_jobs/verify/served.py) on an event log with disorder
inside the bound and duplicates, for every tiled group of the catalogue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyflink.table import TableEnvironment

from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.features.columns import source_columns
from flink_jobs.features.compile import Mode, source_statements
from flink_jobs.features.model import FeatureGroup
from flink_jobs.job_config import JobConfig
from flink_jobs.plans import compile_plan, load
from flink_jobs.sources import register_file_source
from flink_jobs.tiles import codec
from flink_jobs.tiles.compile import TILED_CATALOGUE, Kind, kind_statements, kinds
from tests import timeline
from tests.flink.conftest import table_env
from tests.tiles_check import Tiles, mismatches

pytestmark = pytest.mark.flink


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return timeline.build(seed=11)


def _environment(log: Path) -> TableEnvironment:
    t_env = table_env(streaming=True)
    source = CATALOGUE[0].source
    register_file_source(t_env, source, log)
    for statement in source_statements(source, list(source_columns(source.topic)), Mode.STREAMING):
        if not statement.sink:
            t_env.execute_sql(statement.sql())
    return t_env


def _final_tiles(t_env: TableEnvironment, kind: Kind) -> tuple[Tiles, int]:
    """Each tile's last emitted version (a bounded input ends with every tile final), and
    the number of updates."""
    for statement in kind_statements(kind):
        if not statement.sink:
            t_env.execute_sql(statement.sql())
    query = f"SELECT {kind.entity}, JSON_STRING(tiles) FROM `{kind.name}_tiles`"
    tiles: Tiles = {}
    updates = 0
    with t_env.sql_query(query).execute().collect() as rows:
        for entity, changed in rows:
            updates += 1
            for tile in json.loads(changed):
                by_start = tiles.setdefault(tile["feature_group"], {}).setdefault(entity, {})
                by_start[tile["tile_start"]] = codec.decode(tile["tile"])
    return tiles, updates


@pytest.fixture(scope="module")
def tiles(events: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Tiles:
    log = timeline.write_json_lines(events, tmp_path_factory.mktemp("log") / "e.json")
    t_env = _environment(log)
    result: Tiles = {}
    for kind in kinds(TILED_CATALOGUE):
        found, updates = _final_tiles(t_env, kind)
        assert updates > 0, kind.name
        result.update(found)
    return result


@pytest.mark.parametrize("group", TILED_CATALOGUE, ids=lambda g: g.table)
def test_merged_tiles_serve_what_the_reference_says(
    group: FeatureGroup, events: list[dict[str, Any]], tiles: Tiles
) -> None:
    checked, failures = mismatches(group, tiles.get(group.table, {}), events)
    assert checked > 100, f"{group.table}: only {checked} non-empty reads"
    assert not failures, "\n".join(failures[:10])


def test_one_tile_function_per_kind_and_no_window_operator(
    events: list[dict[str, Any]], tmp_path: Path
) -> None:
    t_env = _environment(timeline.write_json_lines(events[:10], tmp_path / "e.json"))
    for kind in kinds(TILED_CATALOGUE):
        for statement in kind_statements(kind):
            if not statement.sink:
                t_env.execute_sql(statement.sql())
        plan = t_env.explain_sql(f"SELECT * FROM `{kind.name}_tiles`")
        physical = plan.split("== Optimized Execution Plan ==")[1]
        assert physical.count("ProcessTableFunction(") == 1, kind.name
        assert "WindowAggregate" not in physical and "GroupAggregate" not in physical
        assert f"uid=[{kind.uid}]" in physical


def test_a_v2_job_compiles_into_a_plan_with_its_kafka_sinks(tmp_path: Path) -> None:
    """The job (`flink_jobs.job --compile-plan`) of v2 groups beside a v1 group: one tile
    function per kind in the compiled plan, with its uid, and its rows fitting the tile sink's
    columns read from the reviewed schema (schemas/tile-update.avsc); planning checks every
    nested type, no broker needed. The Avro encoding itself runs first on the stack."""
    config = JobConfig(
        bootstrap="127.0.0.1:1",
        registry_url="http://127.0.0.1:1",
        groups="user_activity.v2,user_today.v2,content_trending.v2,user_session",
    )
    compile_plan(config, tmp_path / "plan.json")
    nodes = load(tmp_path / "plan.json")["nodes"]
    tiles = [n for n in nodes if n["type"].startswith("stream-exec-process-table-function")]
    assert sorted(n["uid"] for n in tiles) == ["tiles-content-v2", "tiles-user-v2"]
    sinks = {
        n["dynamicTableSink"]["table"]["identifier"].rsplit(".", 1)[1].strip("`")
        for n in nodes
        if n["type"].startswith("stream-exec-sink")
    }
    assert {"user_tile_sink", "content_tile_sink", "user_session_v1_sink"} <= sinks
    assert "user_activity_v2_late" in sinks
    assert not any(s.startswith("user_activity_v2_sink") for s in sinks)
