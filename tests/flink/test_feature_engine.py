"""Every feature group of the catalogue, run by Flink in batch AND streaming mode over the
same event log (out of order within the bound, with duplicates and session gaps), compared
with the plain-Python reference: exact values, approximate ones within their bounds."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyflink.common import RowKind
from pyflink.table import TableEnvironment

from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.features.columns import source_columns
from flink_jobs.features.compile import Mode, aggregation, group_statements, source_statements
from flink_jobs.features.model import Agg, FeatureGroup, Lifetime
from flink_jobs.sources import register_file_source
from flink_jobs.verify import reference
from flink_jobs.verify.compare import Rows, compare
from tests import timeline
from tests.flink.conftest import table_env

pytestmark = pytest.mark.flink


@pytest.fixture(scope="module")
def event_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Path]:
    events = timeline.build(seed=11)
    return events, timeline.write_json_lines(events, tmp_path_factory.mktemp("log") / "e.json")


def _ms(value: datetime) -> int:
    return int(value.replace(tzinfo=UTC).timestamp() * 1000)


def _run(t_env: TableEnvironment, group: FeatureGroup, mode: Mode) -> Rows:
    """The group's final rows: for an updating (lifetime) result, each entity's last value."""
    for statement in group_statements(group, mode):
        if not statement.sink:
            t_env.execute_sql(statement.sql())
    names = [f.name for f in group.features]
    latest: dict[Any, tuple[reference.WindowKey, dict[str, Any]]] = {}
    with t_env.sql_query(aggregation(group, mode)).execute().collect() as results:
        for row in results:
            if row.get_row_kind() not in (RowKind.INSERT, RowKind.UPDATE_AFTER):
                continue
            entity, start, end, *values = list(row)
            key = (entity, _ms(start), _ms(end))
            slot = entity if isinstance(group.window, Lifetime) else key
            latest[slot] = (key, dict(zip(names, values, strict=True)))
    return dict(latest.values())


def _environment(mode: Mode, log: Path) -> TableEnvironment:
    t_env = table_env(streaming=mode is Mode.STREAMING)
    source = CATALOGUE[0].source
    register_file_source(t_env, source, log)
    fields = list(source_columns(source.topic))
    for statement in source_statements(source, fields, mode):
        if not statement.sink:
            t_env.execute_sql(statement.sql())
    return t_env


@pytest.fixture(scope="module")
def results(event_log: tuple[list[dict[str, Any]], Path]) -> dict[Mode, dict[str, Rows]]:
    """Every group's rows, computed by Flink in each mode from the same log."""
    _, log = event_log
    by_mode = {}
    for mode in Mode:
        t_env = _environment(mode, log)
        by_mode[mode] = {group.name: _run(t_env, group, mode) for group in CATALOGUE}
    return by_mode


@pytest.mark.parametrize("mode", list(Mode), ids=lambda m: m.value)
def test_catalogue_matches_the_reference(
    mode: Mode,
    event_log: tuple[list[dict[str, Any]], Path],
    results: dict[Mode, dict[str, Rows]],
) -> None:
    events, _ = event_log
    failures = []
    for group in CATALOGUE:
        want, late = reference.compute(group, events, mode is Mode.STREAMING, ended=True)
        assert not late, "the log's disorder stays within the bound: nothing is late"
        assert want, f"{group.name}: the log must produce rows"
        failures += [
            f"{group.name}: {p}" for p in compare(group, results[mode][group.name], want)[:5]
        ]
    assert not failures, "\n".join(failures)


SKETCHES = (Agg.APPROX_DISTINCT, Agg.PERCENTILE)


def test_batch_rows_equal_streaming_rows(results: dict[Mode, dict[str, Rows]]) -> None:
    """Same events, same windows: the same rows, value for value (sketches, which are
    randomized, are held to their bounds against the reference above)."""
    for group in CATALOGUE:
        batch, streaming = results[Mode.BATCH][group.name], results[Mode.STREAMING][group.name]
        assert batch.keys() == streaming.keys(), group.name
        exact = [f.name for f in group.features if f.agg not in SKETCHES]
        for key in batch:
            for name in exact:
                b, s = batch[key][name], streaming[key][name]
                same = math.isclose(b, s, rel_tol=1e-9) if isinstance(b, float) else b == s
                assert same, f"{group.name} {key} {name}: batch {b!r}, streaming {s!r}"
