"""Compiled plans: fingerprints, reuse, and the comparison of two plans' operators."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from flink_jobs.job_config import JobConfig
from flink_jobs.plans import (
    PLAN_INPUTS,
    fingerprint,
    plan_changes,
    plan_for,
    plan_path,
    version_problem,
)
from flink_jobs.settings import Settings

CONFIG = JobConfig(bootstrap="b", registry_url="r", groups="user_activity")


def test_the_fingerprint_is_the_definition_not_the_runtime_settings() -> None:
    assert fingerprint(CONFIG) == fingerprint(replace(CONFIG))
    assert fingerprint(replace(CONFIG, parallelism=2, checkpoint_interval_s=3)) == fingerprint(
        CONFIG
    )
    for changed in (
        replace(CONFIG, groups="user_activity,user_session"),
        replace(CONFIG, namespace="x"),
        replace(CONFIG, watermark_emit="on-event"),
        replace(CONFIG, registry_url="r2"),
        replace(CONFIG, idleness="flink"),
    ):
        assert fingerprint(changed) != fingerprint(CONFIG)


def test_the_fingerprint_covers_the_code_and_schemas_a_plan_is_compiled_from(
    tmp_path: Path,
) -> None:
    (tmp_path / "flink_jobs" / "features").mkdir(parents=True)
    (tmp_path / "schemas").mkdir()
    sinks = tmp_path / "flink_jobs" / "sinks.py"
    sinks.write_text("A = 1\n")
    (tmp_path / "schemas" / "t-value.avsc").write_text("{}")
    (tmp_path / "README.md").write_text("docs")
    before = fingerprint(CONFIG, tmp_path)
    (tmp_path / "README.md").write_text("other docs")
    assert fingerprint(CONFIG, tmp_path) == before
    sinks.write_text("A = 2\n")
    assert fingerprint(CONFIG, tmp_path) != before
    assert "schemas/*.avsc" in PLAN_INPUTS


def test_a_plan_is_compiled_once_per_definition(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    compiled: list[Path] = []

    def compiler(config: JobConfig, path: Path) -> None:
        compiled.append(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")

    said: list[str] = []
    path = plan_for(settings, CONFIG, compiler, said.append)
    assert path == tmp_path / "plans" / CONFIG.job_name / f"{fingerprint(CONFIG)}.json"
    again = plan_for(settings, replace(CONFIG, parallelism=2), compiler, said.append)
    assert again == path == plan_path(settings, CONFIG)
    assert compiled == [path]
    assert "compiling" in said[0] and "reused" in said[1]


def node(node_id: int, kind: str, **content: Any) -> dict[str, Any]:
    return {"id": node_id, "type": kind, "description": f"node {node_id}", **content}


def sink(node_id: int, table: str) -> dict[str, Any]:
    identifier = f"`default_catalog`.`default_database`.`{table}`"
    return node(
        node_id, "stream-exec-sink_1", dynamicTableSink={"table": {"identifier": identifier}}
    )


def edge(source: int, target: int) -> dict[str, Any]:
    return {"source": source, "target": target, "shuffle": {"type": "FORWARD"}}


RUNNING: dict[str, Any] = {
    "flinkVersion": "2.2",
    "nodes": [
        node(1, "stream-exec-table-source-scan_1", table="src"),
        node(2, "stream-exec-deduplicate_1", state=[{"index": 0, "ttl": "10 min"}]),
        sink(3, "user_activity_v1_sink"),
    ],
    "edges": [edge(1, 2), edge(2, 3)],
}


def test_a_plan_that_keeps_every_node_and_adds_some_is_compatible() -> None:
    new = copy.deepcopy(RUNNING)
    new["nodes"] += [node(4, "stream-exec-calc_1"), sink(5, "user_session_v1_sink")]
    new["edges"] += [edge(1, 4), edge(4, 5)]
    new["nodes"][0]["description"] = "reworded"
    assert plan_changes(RUNNING, new) == []
    assert plan_changes(RUNNING, RUNNING) == []


def test_a_changed_node_is_named_with_what_it_feeds() -> None:
    new = copy.deepcopy(RUNNING)
    new["nodes"][1]["state"] = [{"index": 0, "ttl": "20 min"}]
    problems = plan_changes(RUNNING, new)
    assert problems[0] == (
        "operator 2 (stream-exec-deduplicate_1, feeding user_activity_v1_sink) changed: state"
    )
    assert problems[-1].startswith("the planner laid the new job out differently")


def test_a_node_under_another_id_or_with_other_inputs_is_refused() -> None:
    shifted = copy.deepcopy(RUNNING)
    shifted["nodes"][1]["id"] = 7
    shifted["edges"] = [edge(1, 7), edge(7, 3)]
    problems = plan_changes(RUNNING, shifted)
    assert problems[0].startswith("operator 2 (stream-exec-deduplicate_1")
    assert problems[0].endswith("is not in the new plan under the same id")
    assert "operator 3 (stream-exec-sink_1, feeding user_activity_v1_sink) has other inputs" in (
        problems
    )
    retyped = copy.deepcopy(RUNNING)
    retyped["nodes"][1]["type"] = "stream-exec-rank_1"
    assert "is not in the new plan under the same id" in plan_changes(RUNNING, retyped)[0]


def _watermarked(idle_timeout_ms: int, bound: str = "5 s") -> dict[str, Any]:
    plan = copy.deepcopy(RUNNING)
    ability = {
        "type": "WatermarkPushDown",
        "watermarkExpr": bound,
        "watermarkParams": {"emitStrategy": "ON_PERIODIC", "sourceIdleTimeout": idle_timeout_ms},
    }
    plan["nodes"][0]["scanTableSource"] = {"table": {"identifier": "src"}, "abilities": [ability]}
    return plan


def test_the_sources_idle_timeout_is_no_state() -> None:
    """JobConfig.idleness switches between Flink's idle timeout (10 s in the plan) and
    kafka-lag-aware (-1): either way the running operators keep their state."""
    assert plan_changes(_watermarked(10_000), _watermarked(-1)) == []
    assert plan_changes(_watermarked(-1), _watermarked(10_000)) == []
    problems = plan_changes(_watermarked(10_000), _watermarked(10_000, bound="6 s"))
    assert problems[0].endswith("changed: scanTableSource")


@pytest.mark.parametrize(
    ("compiled", "cluster", "ok"),
    [
        ("2.2", "2.2.1", True),
        ("2.2", "2.2.3", True),
        ("2.2", "2.3.0", True),
        ("2.3", "2.2.1", False),
    ],
)
def test_a_plan_runs_on_its_flink_version_or_a_later_one(
    compiled: str, cluster: str, ok: bool
) -> None:
    problem = version_problem({"flinkVersion": compiled}, cluster)
    assert (problem is None) == ok
    if not ok:
        assert problem == (
            "the plan was compiled by Flink 2.3, the cluster runs 2.2.1: a plan runs on its "
            "own Flink version or a later one"
        )
