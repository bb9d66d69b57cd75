"""Every feature group of the catalogue, run by Flink in batch AND streaming mode over the
same event log (out of order within the bound, with duplicates and session gaps), compared
with the plain-Python reference: exact values, approximate ones within their bounds."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyflink.common import RowKind
from pyflink.table import TableEnvironment

from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.features.columns import source_columns
from flink_jobs.features.compile import Mode, aggregation, group_statements, source_statements
from flink_jobs.features.model import Agg, Feature, FeatureGroup, Lifetime
from flink_jobs.sources import register_file_source
from tests import reference, timeline
from tests.flink.conftest import table_env

pytestmark = pytest.mark.flink

HLL_BOUND = 3 * 1.04 / math.sqrt(2**12)  # three sigma at lg_k 12
KLL_RANK_ERROR = 0.02  # k = 200: 1.65% normalized rank error (DataSketches), rounded up
Rows = dict[reference.WindowKey, dict[str, Any]]


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


def _problems(feature: Feature, got: Any, want: Any) -> Iterator[str]:
    if want is None or got is None:
        if want is not got:
            yield f"{feature.name}: {got!r} != {want!r}"
    elif feature.agg is Agg.APPROX_DISTINCT:
        if abs(got - want) > max(1, HLL_BOUND * want):
            yield f"{feature.name}: {got} not within {HLL_BOUND:.1%} of {want}"
    elif feature.agg is Agg.PERCENTILE:
        below = sum(v < got for v in want) / len(want)
        at_most = sum(v <= got for v in want) / len(want)
        slack = KLL_RANK_ERROR + 1 / len(want)
        assert feature.fraction is not None
        if not below - slack <= feature.fraction <= at_most + slack:
            yield f"{feature.name}: {got} has rank [{below}, {at_most}], not ~{feature.fraction}"
    elif isinstance(want, float) or isinstance(got, float):
        if not math.isclose(got, want, rel_tol=1e-9):
            yield f"{feature.name}: {got} != {want}"
    elif isinstance(want, list):
        if list(got or []) != want:
            yield f"{feature.name}: {got} != {want}"
    elif got != want:
        yield f"{feature.name}: {got!r} != {want!r}"


def _compare(group: FeatureGroup, got: Rows, want: Rows) -> list[str]:
    problems = [f"missing {k}" for k in sorted(want.keys() - got.keys())]
    problems += [f"unexpected {k}" for k in sorted(got.keys() - want.keys())]
    for key in sorted(want.keys() & got.keys()):
        for f in group.features:
            problems += [f"{key} {p}" for p in _problems(f, got[key][f.name], want[key][f.name])]
    return problems


@pytest.mark.parametrize("mode", [Mode.BATCH, Mode.STREAMING], ids=lambda m: m.value)
def test_catalogue_matches_the_reference(
    mode: Mode, event_log: tuple[list[dict[str, Any]], Path]
) -> None:
    events, log = event_log
    t_env = _environment(mode, log)
    failures = []
    for group in CATALOGUE:
        want, late = reference.compute(group, events, streaming=mode is Mode.STREAMING)
        assert not late, "the log's disorder stays within the bound: nothing is late"
        assert want, f"{group.name}: the log must produce rows"
        got = _run(t_env, group, mode)
        failures += [f"{group.name}: {p}" for p in _compare(group, got, want)[:5]]
    assert not failures, "\n".join(failures)
