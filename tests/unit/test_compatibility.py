"""The upgrade's compatibility check on what two job versions compute (no Flink, no stack)."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import timedelta

import pytest

from flink_jobs.compatibility import added_groups, manifest_problems
from flink_jobs.features.catalogue import CATALOGUE, USER_ACTIVITY
from flink_jobs.features.model import Agg, Feature, Tumbling
from flink_jobs.job_config import JobConfig
from flink_jobs.manifest import Manifest, manifest


def job(groups: str, namespace: str = "") -> Manifest:
    return manifest(JobConfig(bootstrap="b", registry_url="r", groups=groups, namespace=namespace))


def with_catalogue(monkeypatch: pytest.MonkeyPatch, *groups: object) -> None:
    """The new version's code: a catalogue with these groups instead."""
    monkeypatch.setattr("flink_jobs.job_config.CATALOGUE", groups)


def test_the_same_job_is_compatible() -> None:
    running = job("")
    assert manifest_problems(running, job("")) == []
    assert added_groups(running, job("")) == []


def test_new_groups_may_be_added() -> None:
    running, new = job("user_activity"), job("user_activity,user_session.v1")
    assert manifest_problems(running, new) == []
    assert added_groups(running, new) == ["user_session.v1"]


def test_a_changed_feature_is_refused_naming_the_group_and_the_way_forward(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = job("user_activity")
    count, watch = USER_ACTIVITY.features
    changed = replace(USER_ACTIVITY, features=(count, replace(watch, agg=Agg.MAX)))
    with_catalogue(monkeypatch, changed, *CATALOGUE[1:])
    [problem] = manifest_problems(running, job("user_activity"))
    assert problem.startswith("user_activity.v1 changed (feature user_watch_ms_sum_1m changed)")
    assert "declare user_activity v2 with the change beside v1" in problem
    assert "`sportsfeat catalogue migrate user_activity`" in problem


def test_a_changed_window_and_an_added_feature_are_both_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = job("user_activity")
    extra = Feature("user_plays_count_1m", Agg.COUNT, "Plays.")
    changed = replace(
        USER_ACTIVITY,
        window=Tumbling(timedelta(minutes=2)),
        features=(*USER_ACTIVITY.features, extra),
    )
    with_catalogue(monkeypatch, changed)
    [problem] = manifest_problems(running, job("user_activity"))
    assert "feature user_plays_count_1m added" in problem
    assert 'window changed from {"kind": "Tumbling", "size": 60.0}' in problem


def test_a_removed_group_is_refused() -> None:
    [problem] = manifest_problems(job("user_activity,user_session"), job("user_activity"))
    assert problem.startswith("user_session.v1 is computed by the running job but not by the new")
    assert "--allowNonRestoredState" in problem


def test_other_topics_are_refused() -> None:
    problems = manifest_problems(job("user_activity"), job("user_activity", namespace="other"))
    assert problems == [
        "source fan.interactions: the new job reads fan.interactions.other instead of "
        "fan.interactions (the running job's offsets are for its topic)",
        "user_activity.v1: the new job writes features.user_activity_other.v1 instead of "
        "features.user_activity.v1",
    ]


def test_changed_sql_under_the_same_definition_is_refused() -> None:
    running = job("user_activity")
    engine_changed = copy.deepcopy(running)
    engine_changed["groups"]["user_activity.v1"]["sql"][-1] += " -- other"
    [problem] = manifest_problems(running, engine_changed)
    assert "the feature engine now generates other SQL for it" in problem
    source_changed = copy.deepcopy(running)
    source_changed["sources"]["fan.interactions"]["sql"][0] += " -- other"
    [problem] = manifest_problems(running, source_changed)
    assert problem.startswith("source fan.interactions: its validation and deduplication SQL")
