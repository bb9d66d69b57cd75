"""Compiled plans of the real feature job, in this process's JVM (no broker is contacted):
deterministic, extended by an added group without touching the running operators, operator
uids from node ids, and runnable with EXECUTE PLAN."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from pyflink.java_gateway import get_gateway
from pyflink.table import EnvironmentSettings, TableEnvironment

from flink_jobs.job import build, configure, execute_plan
from flink_jobs.job_config import JobConfig
from flink_jobs.plans import compile_plan, load, plan_changes, released_plan
from flink_jobs.stack.jars import connector_jars
from tests.k8s_validation import K8S, OVERLAYS

pytestmark = pytest.mark.flink

# Nothing listens there: planning and a cancelled start never need Kafka or the registry.
ARGS = ["--bootstrap", "127.0.0.1:1", "--registry-url", "http://127.0.0.1:2", "--job-name", "t"]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Plans compiled as upgrades compile them: by the job's --compile-plan, each in a JVM of
    its own (node ids count on across compilations in one JVM)."""
    folder = tmp_path_factory.mktemp("plans")
    plans = {}
    for name, groups in [
        ("single", "user_activity"),
        ("base", "user_activity,user_session"),
        ("again", "user_activity,user_session"),
        ("added", "user_activity,user_session,game_engagement"),
    ]:
        plans[name] = folder / f"{name}.json"
        compile_plan(JobConfig.parse(["--groups", groups, *ARGS]), plans[name])
    return plans


def environment(groups: str) -> tuple[TableEnvironment, JobConfig]:
    config = JobConfig.parse(["--groups", groups, *ARGS])
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    configure(t_env, config)
    t_env.get_config().set("pipeline.jars", ";".join(p.as_uri() for p in connector_jars()))
    return t_env, config


def test_recompiling_the_same_job_gives_the_same_plan(compiled: dict[str, Path]) -> None:
    assert compiled["base"].read_bytes() == compiled["again"].read_bytes()
    assert load(compiled["base"])["flinkVersion"] == "2.2"


def test_an_added_group_keeps_every_running_operator(compiled: dict[str, Path]) -> None:
    base, added = load(compiled["base"]), load(compiled["added"])
    assert plan_changes(base, added) == []
    assert len(added["nodes"]) > len(base["nodes"])


def test_a_job_of_one_group_cannot_gain_a_second(compiled: dict[str, Path]) -> None:
    """One group: the planner fuses the shared decode/dedup operators with that group's
    projection; from two groups on they output every column and groups append cleanly."""
    problems = plan_changes(load(compiled["single"]), load(compiled["base"]))
    assert any("(stream-exec-deduplicate_1" in p for p in problems)


def _uids(plan: Path, groups: str) -> set[str]:
    """The uids of the transformations a plan translates to (the planner's internal API)."""
    t_env, config = environment(groups)
    build(t_env, config)
    j_env = t_env._j_tenv
    reference = get_gateway().jvm.org.apache.flink.table.api.PlanReference.fromFile(str(plan))
    pending: list[Any] = list(j_env.getPlanner().translatePlan(j_env.loadPlan(reference).unwrap()))
    uids = set()
    while pending:
        transformation = pending.pop()
        uids.add(str(transformation.getUid()))
        pending.extend(transformation.getInputs())
    return uids


def test_operators_get_their_uids_from_the_plan_node_ids(compiled: dict[str, Path]) -> None:
    base_plan = json.loads(compiled["base"].read_text())
    base = _uids(compiled["base"], "user_activity,user_session")
    dedup = next(n["id"] for n in base_plan["nodes"] if n["type"].startswith("stream-exec-dedup"))
    assert f"{dedup}_deduplicate" in base
    assert {uid.split("_", 1)[0] for uid in base} == {str(n["id"]) for n in base_plan["nodes"]}
    assert base <= _uids(compiled["added"], "user_activity,user_session,game_engagement")


def test_the_job_runs_from_its_plan(compiled: dict[str, Path]) -> None:
    t_env, config = environment("user_activity,user_session")
    client = execute_plan(t_env, config, str(compiled["base"])).get_job_client()
    assert client is not None
    try:
        assert str(client.get_job_status().result()) in ("JobStatus.CREATED", "JobStatus.RUNNING")
    finally:
        client.cancel().result()


def overlay_registry(overlay: str) -> str:
    """The registry URL the overlay's sportsfeat-env gives the job."""
    kustomization = yaml.safe_load((K8S / "overlays" / overlay / "kustomization.yaml").read_text())
    (env,) = [g for g in kustomization["configMapGenerator"] if g["name"] == "sportsfeat-env"]
    literals = dict(item.split("=", 1) for item in env["literals"])
    return str(literals["SPORTSFEAT_REGISTRY_SERVER"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_runs_this_codes_plan(overlay: str, tmp_path: Path) -> None:
    """The overlay's released plan (in git, in the image, run by its FlinkDeployment) is what
    this code compiles for the whole catalogue with the overlay's registry URL.
    SPORTSFEAT_UPDATE_GOLDEN=1 releases a new one, unless it drops or changes an operator of
    the released one (its state would be lost: ship a new group version instead)."""
    fresh, released = tmp_path / "plan.json", released_plan(overlay)
    args = ["--job-name", "sportsfeat-features", "--registry-url", overlay_registry(overlay)]
    compile_plan(JobConfig.parse(args), fresh)
    if released.exists():
        assert plan_changes(load(released), load(fresh)) == []
    if os.environ.get("SPORTSFEAT_UPDATE_GOLDEN") == "1":
        released.parent.mkdir(parents=True, exist_ok=True)
        released.write_bytes(fresh.read_bytes())
    assert fresh.read_bytes() == released.read_bytes(), (
        "this code compiles another plan than the released one: SPORTSFEAT_UPDATE_GOLDEN=1 "
        "pytest tests/flink/test_compiled_plans.py releases it"
    )
