"""The catalogue as data: validation, generated SQL (golden files), schemas, versioning."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from flink_jobs.features.avro import feature_schema
from flink_jobs.features.catalogue import CATALOGUE, USER_ENGAGEMENT_1H, USER_TEAM_AFFINITY
from flink_jobs.features.columns import source_columns
from flink_jobs.features.compile import Mode, group_statements, render, source_statements
from flink_jobs.features.model import (
    Agg,
    Cumulative,
    Feature,
    FeatureGroup,
    Hopping,
    Lifetime,
    Session,
    Tumbling,
)
from flink_jobs.features.released import check, release, snapshot_path
from flink_jobs.features.validate import CatalogueError, validate
from flink_jobs.registry import schema_for_topic

GOLDEN = Path(__file__).parent.parent / "golden"
UPDATE = os.environ.get("SPORTSFEAT_UPDATE_GOLDEN") == "1"


def test_the_catalogue_is_valid_and_covers_every_window_and_aggregation() -> None:
    validate(CATALOGUE)
    features = [f for g in CATALOGUE for f in g.features]
    assert len(CATALOGUE) >= 4 and len(features) >= 25
    kinds = {type(g.window) for g in CATALOGUE}
    assert kinds == {Tumbling, Hopping, Cumulative, Session, Lifetime}
    assert {f.agg for f in features} >= set(Agg) - {Agg.MIN, Agg.VARIANCE}


def _with(group: FeatureGroup, **changes: object) -> FeatureGroup:
    return dataclasses.replace(group, **changes)  # type: ignore[arg-type]


COUNT = Feature("n", Agg.COUNT, "rows")
BROKEN = {
    "duplicate feature": (_with(USER_ENGAGEMENT_1H, features=(COUNT, COUNT)), "defined 2 times"),
    "unknown column": (
        _with(USER_ENGAGEMENT_1H, features=(Feature("x", Agg.SUM, "d", "nope"),)),
        "column 'nope' is not in the source schema",
    ),
    "string sum": (
        _with(USER_ENGAGEMENT_1H, features=(Feature("x", Agg.SUM, "d", "sport"),)),
        "sum needs a numeric column, sport is STRING",
    ),
    "slide does not divide": (
        _with(USER_ENGAGEMENT_1H, window=Hopping(timedelta(minutes=10), timedelta(minutes=3))),
        "does not divide window size",
    ),
    "seconds window": (
        _with(USER_ENGAGEMENT_1H, window=Tumbling(timedelta(seconds=30))),
        "whole minutes",
    ),
    "unbounded state": (
        _with(USER_TEAM_AFFINITY, window=Lifetime(state_ttl=timedelta(0))),
        "needs a positive state TTL",
    ),
    "sketch in a lifetime window": (
        _with(USER_TEAM_AFFINITY, features=(Feature("x", Agg.TOP_K, "d", "sport", k=3),)),
        "top_k cannot run in a lifetime window",
    ),
    "top-k without k": (
        _with(USER_ENGAGEMENT_1H, features=(Feature("x", Agg.TOP_K, "d", "sport"),)),
        "top_k needs k in [1, 100], got None",
    ),
    "ratio of unknown": (
        _with(USER_ENGAGEMENT_1H, features=(Feature("r", Agg.RATIO, "d", ratio_of=("a", "b")),)),
        "ratio_of must name two non-ratio features",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_validation_names_the_problem(case: str) -> None:
    group, message = BROKEN[case]
    with pytest.raises(CatalogueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate((group,))


def test_a_topic_defined_twice_is_refused() -> None:
    with pytest.raises(CatalogueError, match="defined 2 times"):
        validate((USER_ENGAGEMENT_1H, USER_ENGAGEMENT_1H))


def _golden(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} missing: run with SPORTSFEAT_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(), (
        f"generated SQL differs from {path}: review the change, then rerun with "
        "SPORTSFEAT_UPDATE_GOLDEN=1"
    )


@pytest.mark.parametrize("mode", list(Mode), ids=lambda m: m.value)
@pytest.mark.parametrize("group", CATALOGUE, ids=lambda g: g.name)
def test_generated_sql_equals_its_golden_file(group: FeatureGroup, mode: Mode) -> None:
    _golden(GOLDEN / mode.value / f"{group.table}.sql", render(group_statements(group, mode)))


@pytest.mark.parametrize("mode", list(Mode), ids=lambda m: m.value)
def test_source_sql_equals_its_golden_file(mode: Mode) -> None:
    source = CATALOGUE[0].source
    statements = source_statements(source, list(source_columns(source.topic)), mode)
    _golden(GOLDEN / mode.value / f"{source.name}.sql", render(statements))


@pytest.mark.parametrize("group", CATALOGUE, ids=lambda g: g.name)
def test_feature_topic_schema_file_is_the_generated_one(group: FeatureGroup) -> None:
    assert schema_for_topic(group.topic).schema() == feature_schema(group), (
        f"schemas/{group.topic}-value.avsc is stale: `sportsfeat catalogue schemas` rewrites it"
    )


def test_released_definitions_are_unchanged() -> None:
    unreleased = [g.topic for g in CATALOGUE if not snapshot_path(g).exists()]
    assert unreleased == [], "`sportsfeat catalogue release` snapshots them"
    assert check(CATALOGUE) == []


def test_changing_a_released_definition_fails_the_check(tmp_path: Path) -> None:
    release(USER_ENGAGEMENT_1H, tmp_path)
    changed = _with(USER_ENGAGEMENT_1H, window=Tumbling(timedelta(minutes=30)))
    problems = check((changed,), tmp_path)
    assert len(problems) == 1 and "window changed" in problems[0]
    assert "define user_engagement_1h v2 instead" in problems[0]
    renamed = _with(USER_ENGAGEMENT_1H, features=USER_ENGAGEMENT_1H.features[1:])
    assert "feature user_views_count_1h removed" in check((renamed,), tmp_path)[0]
    assert check((_with(USER_ENGAGEMENT_1H, doc="reworded"),), tmp_path) == []
    assert check((_with(changed, version=2),), tmp_path) == []
    assert json.loads((tmp_path / "user_engagement_1h.v1.json").read_text())["version"] == 1
