"""`catalogue migrate`: the successor version's own job and its catch-up (fake cluster)."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from flink_jobs import deployments
from flink_jobs.errors import UserError
from flink_jobs.features.catalogue import CATALOGUE, USER_ACTIVITY
from flink_jobs.job_config import JobConfig
from flink_jobs.migrate import migrate, plan_migration
from tests.unit.fake_cluster import NAME, World, make_world

V2 = replace(USER_ACTIVITY, version=2, features=USER_ACTIVITY.features[:1])


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def main_job(world: World) -> deployments.Deployment:
    deployment = deployments.load(world.settings, NAME)
    assert deployment is not None
    return deployment


def with_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("flink_jobs.job_config.CATALOGUE", (*CATALOGUE, V2))


class Clock:
    """migrate's `time`: sleeping advances it at once."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_successor_gets_a_job_of_its_own(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    with_v2(monkeypatch)
    m = plan_migration(main_job(world), "user_activity")
    assert (m.current, m.current_topic) == ("user_activity.v1", "features.user_activity.v1")
    assert m.successor == V2 and m.successor_topic == "features.user_activity.v2"
    assert m.config.job_name == m.config.consumer_group == f"{NAME}-user_activity-v2"
    assert m.config.groups == "user_activity.v2"


def test_what_cannot_migrate_says_why(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match=r"user_activity\.v2 is engine v2's tiled version"):
        plan_migration(main_job(world), "user_activity")
    monkeypatch.setattr("flink_jobs.job_config.TILED_CATALOGUE", ())
    with pytest.raises(UserError, match=r"user_activity\.v2 is not declared: in flink_jobs"):
        plan_migration(main_job(world), "user_activity")
    with_v2(monkeypatch)
    with pytest.raises(UserError, match="does not compute user_session; it computes user_acti"):
        plan_migration(main_job(world), "user_session")


def test_migrate_starts_the_successor_and_follows_it_until_it_has_caught_up(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_v2(monkeypatch)
    monkeypatch.setattr("flink_jobs.migrate.time", Clock())
    monkeypatch.setattr("sys.stdout", io.StringIO())  # no terminal, whatever runs the tests
    newest = {
        "features.user_activity.v1": [5000, 6000, 6000],
        "features.user_activity.v2": [1000, 2000, 6000],
    }

    def window_end(config: JobConfig, topic: str) -> int | None:
        return newest[topic].pop(0)

    m = migrate(world.ctx, NAME, "user_activity", wait_s=5, newest=window_end, poll_s=1)
    assert world.cluster.active_job(m.config.job_name) is not None
    recorded = deployments.load(world.settings, m.config.job_name)
    assert recorded is not None and list(recorded.version.manifest["groups"]) == [
        "user_activity.v2"
    ]
    # The wait's progress: a line at each further tenth of wait_s (no terminal), a final one.
    assert world.said[-4:-1] == [
        "catching up: 1/5 s (20 %); user_activity.v1 at 1970-01-01 00:00:06 UTC, "
        "user_activity.v2 at 1970-01-01 00:00:02 UTC",
        "catching up: 2/5 s (40 %); user_activity.v1 at 1970-01-01 00:00:06 UTC, "
        "user_activity.v2 at 1970-01-01 00:00:06 UTC",
        "catching up: 2/5 s (40 %) in 0 s",  # the final line's elapsed time: the real clock
    ]
    assert world.said[-1].startswith("caught up: ")
    # Idempotent: the running successor is followed, not started again.
    again = migrate(world.ctx, NAME, "user_activity", 0, lambda c, t: 7000, poll_s=0)
    assert again.config == m.config and len(world.cluster.jobs) == 2


def test_not_caught_up_in_time_is_an_error_and_the_job_keeps_running(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_v2(monkeypatch)
    behind = {"features.user_activity.v1": 6000, "features.user_activity.v2": None}
    with pytest.raises(UserError, match=r"has not caught up within 0 s .*keeps running"):
        migrate(world.ctx, NAME, "user_activity", 0, lambda c, t: behind[t], poll_s=0)
