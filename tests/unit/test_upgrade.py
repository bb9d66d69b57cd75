"""The upgrade state machine against a fake cluster: check, stop with a savepoint, start,
verify, roll back (no Flink, no stack)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from flink_jobs import deployments
from flink_jobs.cluster import Health
from flink_jobs.errors import UserError
from flink_jobs.features.catalogue import CATALOGUE, USER_ACTIVITY
from flink_jobs.features.model import Agg
from flink_jobs.job_config import JobConfig
from flink_jobs.manifest import group_key
from flink_jobs.upgrade import Change, deploy, upgrade
from tests.unit.fake_cluster import HEALTHY, NAME, World, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


def running(world: World) -> deployments.Deployment:
    deployment = deployments.load(world.settings, NAME)
    assert deployment is not None
    assert world.cluster.active_job(NAME) == deployment.job_id
    return deployment


def test_deploy_compiles_a_plan_runs_it_and_records_it(world: World) -> None:
    deployment = running(world)
    assert deployment.version.plan == str(world.compiled[0])
    assert list(deployment.version.manifest["groups"]) == ["user_activity.v1"]
    assert world.cluster.jobs[deployment.job_id].plan == world.compiled[0]
    assert deploy(world.ctx, deployment.version.job_config(), "user_activity") == deployment


def test_new_config_reuses_the_plan_and_carries_state_through_a_savepoint(world: World) -> None:
    before = running(world)
    after = upgrade(world.ctx, NAME, Change(checkpoint_interval_s=5))
    plan = Path(before.version.plan).name
    assert world.cluster.calls == [
        "prepare user_activity.v1",
        f"stop {before.job_id}",
        f"start p1 {plan} from file:/savepoints/{before.job_id}",
    ]
    assert after == running(world)
    assert after.version.plan == before.version.plan and len(world.compiled) == 1
    assert after.version.job_config().checkpoint_interval_s == 5
    assert after.savepoint == f"file:/savepoints/{before.job_id}"
    [entry] = deployments.upgrade_log(world.settings)
    assert entry["outcome"] == "upgraded" and entry["savepoint"] == after.savepoint
    assert (entry["from"]["job_id"], entry["to"]["job_id"]) == (before.job_id, after.job_id)
    assert any(line.startswith("[5/5] upgraded") for line in world.said)


def test_parallelism_one_two_one(world: World) -> None:
    plan = running(world).version.plan
    for parallelism in (2, 1):
        after = upgrade(world.ctx, NAME, Change(parallelism=parallelism))
        assert after.version.job_config().parallelism == parallelism
        assert after.version.plan == plan
    starts = [c for c in world.cluster.calls if c.startswith("start")]
    assert [s.split()[1] for s in starts] == ["p2", "p1"]
    assert world.outcomes() == ["upgraded", "upgraded"]


def test_an_added_group_gets_a_new_plan_that_keeps_the_running_operators(world: World) -> None:
    before = running(world)
    after = upgrade(world.ctx, NAME, Change(groups="user_session,user_activity"))
    # Running groups first, whatever order was asked for: their plan ids stay.
    assert list(after.version.manifest["groups"]) == ["user_activity.v1", "user_session.v1"]
    assert after.version.plan != before.version.plan and len(world.compiled) == 2
    assert world.cluster.calls[0] == "prepare user_activity.v1,user_session.v1"
    assert any("added: user_session.v1" in line for line in world.said)


def test_a_changed_group_is_refused_before_the_job_is_stopped(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    count, watch = USER_ACTIVITY.features
    changed = replace(USER_ACTIVITY, features=(count, replace(watch, agg=Agg.MAX)))
    monkeypatch.setattr("flink_jobs.job_config.CATALOGUE", (changed, *CATALOGUE[1:]))
    before = running(world)
    with pytest.raises(UserError) as refused:
        upgrade(world.ctx, NAME, Change(parallelism=2))
    assert "refused; nothing was stopped" in str(refused.value)
    assert "user_activity.v1 changed (feature user_watch_ms_sum_1m changed)" in str(refused.value)
    assert world.cluster.calls == [] and len(world.compiled) == 1
    assert running(world) == before
    assert world.outcomes() == ["refused"]


def test_a_removed_group_is_refused(world: World) -> None:
    upgrade(world.ctx, NAME, Change(groups="user_activity,user_session"))
    world.cluster.calls.clear()
    with pytest.raises(UserError, match=r"user_session\.v1 is computed by the running job"):
        upgrade(world.ctx, NAME, Change(groups="user_activity"))
    assert world.cluster.calls == []


def test_a_dry_run_only_checks(world: World) -> None:
    before = running(world)
    assert upgrade(world.ctx, NAME, Change(parallelism=2), dry_run=True) == before
    assert world.cluster.calls == [] and world.outcomes() == []
    assert world.said[-1] == "dry run: nothing was stopped or started"


def test_a_job_not_started_from_a_plan_is_not_upgraded(world: World) -> None:
    (world.settings.state_dir / "deployments" / f"{NAME}.json").unlink()
    with pytest.raises(UserError, match="was not started from a compiled plan"):
        upgrade(world.ctx, NAME, Change())
    with pytest.raises(UserError, match="no job nobody is running"):
        upgrade(world.ctx, "nobody", Change())


def test_rollback_when_the_new_version_does_not_start(world: World) -> None:
    before = running(world)
    world.cluster.start_failure = lambda c: "`flink run` failed" if c.parallelism == 2 else None
    with pytest.raises(UserError) as failed:
        upgrade(world.ctx, NAME, Change(parallelism=2))
    savepoint = f"file:/savepoints/{before.job_id}"
    plan = Path(before.version.plan).name
    assert world.cluster.calls[-2:] == [
        f"start p2 {plan} from {savepoint}",
        f"start p1 {plan} from {savepoint}",
    ]
    after = running(world)
    assert after.version == before.version and after.savepoint == savepoint
    assert str(failed.value) == (
        f"upgrade of {NAME} failed: `flink run` failed. Rolled back: the previous version runs "
        f"again as {after.job_id}, restored from {savepoint}."
    )
    assert world.outcomes() == ["rolled back"]


def test_rollback_when_the_new_version_never_checkpoints(world: World) -> None:
    before = running(world)
    world.cluster.health_of = lambda job: (
        Health("RUNNING", 3, 3, 0) if job.config.parallelism == 2 else HEALTHY
    )
    with pytest.raises(UserError, match="was not RUNNING with a completed checkpoint within 0 s"):
        upgrade(world.ctx, NAME, Change(parallelism=2))
    new_job = next(i for i, j in world.cluster.jobs.items() if j.config.parallelism == 2)
    assert f"cancel {new_job}" in world.cluster.calls
    after = running(world)
    assert after.version == before.version
    assert world.outcomes() == ["rolled back"]
    assert any("waiting for a checkpoint" in line for line in world.said)


def test_rollback_when_the_new_version_fails(world: World) -> None:
    world.cluster.health_of = lambda job: (
        Health("FAILED", 3, 0, 0, "StateMigrationException: incompatible")
        if job.config.parallelism == 2
        else HEALTHY
    )
    with pytest.raises(UserError, match=r"is FAILED.*StateMigrationException.*Rolled back"):
        upgrade(world.ctx, NAME, Change(parallelism=2))
    assert world.outcomes() == ["rolled back"]


def test_a_failed_rollback_names_the_savepoint(world: World) -> None:
    before = running(world)
    world.cluster.start_failure = lambda c: "no slots"
    with pytest.raises(UserError) as failed:
        upgrade(world.ctx, NAME, Change(parallelism=2))
    assert "and so did the rollback (no slots)" in str(failed.value)
    assert f"savepoint file:/savepoints/{before.job_id}" in str(failed.value)
    assert world.outcomes() == ["failed"]


def test_a_group_another_job_writes_is_left_out_or_refused(world: World) -> None:
    other = JobConfig(bootstrap="b", registry_url="r", groups="user_session", job_name="other")
    deploy(world.ctx, other, selection="user_session")
    after = upgrade(world.ctx, NAME, Change(groups="user_activity,user_session"))
    assert list(after.version.manifest["groups"]) == ["user_activity.v1"]
    assert any("user_session.v1 left out: job other computes it" in s for s in world.said)
    with pytest.raises(UserError, match="which job other writes already"):
        deploy(world.ctx, replace(other, job_name="third"), selection="user_session")


def test_group_keys_select_versions() -> None:
    config = JobConfig(bootstrap="b", registry_url="r", groups="user_activity.v1,user_session")
    assert [group_key(g) for g in config.feature_groups()] == [
        "user_activity.v1",
        "user_session.v1",
    ]
