"""The CLI's conventions: --version, exit 2 with usage for a missing subcommand, --json on
every command that lists or reports, aligned columns, and `features` as the API answers."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from flink_jobs.catalogue_cmd import catalogue
from flink_jobs.cli import (
    bench,
    bench_results,
    drills,
    drills_document,
    features,
    schemas_check,
    schemas_list,
    served_features,
    stack_status,
    status_command,
)
from flink_jobs.drills import oracle
from flink_jobs.drills.run import DrillResult, Report
from flink_jobs.feature_groups import feature_group
from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.output import dumps, table
from flink_jobs.registry import schema_files
from flink_jobs.schema_compat import Incompatibility
from flink_jobs.schema_governance import CheckResult
from flink_jobs.serving.app import create_app
from flink_jobs.settings import Settings
from flink_jobs.status import Report as StatusReport
from flink_jobs.status import render
from flink_jobs.upgrade import Change, check
from flink_jobs.upgrade_cmd import upgrade_cmd
from tests.unit.fake_cluster import NAME, make_world
from tests.unit.test_cli import sportsfeat
from tests.unit.test_serving import DAY_MS, FakeRedis, now_ms

# Ports where nothing listens.
NO_STACK = Settings(registry_port=1999, flink_rest_port=1998, redis_port=1997, kafka_port=1996)


def invoke(command: click.Command, *args: str, settings: Settings | None = None) -> Result:
    """`command` in this process (not through the `sportsfeat` group, which sets up logging)."""
    return CliRunner().invoke(command, list(args), obj=settings or NO_STACK)


def test_version() -> None:
    result = sportsfeat("--version")
    assert result.returncode == 0
    assert result.stdout == f"sportsfeat {version('sportsfeat')}\n"


@pytest.mark.parametrize("group", [[], ["stack"], ["schemas"], ["catalogue"]])
def test_a_missing_subcommand_exits_2_with_usage(group: list[str]) -> None:
    result = sportsfeat(*group)
    assert result.returncode == 2
    assert result.stderr.startswith(f"Usage: {' '.join(['sportsfeat', *group])} [OPTIONS] COMMAND")
    assert "Commands:" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        stack_status,
        catalogue.commands["list"],
        schemas_list,
        schemas_check,
        upgrade_cmd,
        drills,
        bench,
        status_command,
    ],
)
def test_every_listing_or_reporting_command_takes_json(command: click.Command) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "--json" in result.stdout


def test_catalogue_list_json_lists_every_group() -> None:
    result = invoke(catalogue, "list", "--json")
    assert result.exit_code == 0
    groups = json.loads(result.stdout)["groups"]
    assert [(g["name"], g["version"], g["topic"]) for g in groups] == [
        (g.name, g.version, g.topic) for g in CATALOGUE
    ]
    assert [len(g["features"]) for g in groups] == [len(g.features) for g in CATALOGUE]
    assert groups[0]["ttl_s"] == CATALOGUE[0].ttl.total_seconds()


def test_catalogue_list_aligns_every_feature_column() -> None:
    lines = invoke(catalogue, "list").stdout.splitlines()
    features = [line for line in lines if line.startswith("    ")]
    assert len(features) == sum(len(g.features) for g in CATALOGUE)
    second_column_at = {line.index(line.split()[1], 4 + len(line.split()[0])) for line in features}
    assert len(second_column_at) == 1


def test_schemas_check_json_needs_no_registry() -> None:
    result = invoke(schemas_check, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert [s["subject"] for s in document["subjects"]] == [s.subject for s in schema_files()]
    assert all(s["problems"] == [] and s["registry_accepts"] is None for s in document["subjects"])


def test_schemas_check_json_still_exits_1_when_incompatible(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = Incompatibility("/fields/seq", "type", "long cannot become string")
    monkeypatch.setattr(
        "flink_jobs.schema_governance.check_schema",
        lambda schema: CheckResult(schema.subject, "FULL", [1], [problem]),
    )
    result = invoke(schemas_check, "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["subjects"][0]["problems"] == [
        {"path": "/fields/seq", "rule": "type", "message": "long cannot become string"}
    ]


def test_stack_status_json_with_nothing_running_parses_and_exits_1(tmp_path: Path) -> None:
    result = invoke(stack_status, "--json", settings=replace(NO_STACK, state_dir=tmp_path))
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["healthy"] is False
    names = [s["name"] for s in document["services"]]
    assert names == ["kafka", "registry", "redis", "flink", "writer", "api"]
    assert {(s["running"], s["problem"], s["healthy"]) for s in document["services"]} == {
        (False, "not running", False)
    }


def test_stack_status_aligns_its_columns(tmp_path: Path) -> None:
    lines = invoke(stack_status, settings=replace(NO_STACK, state_dir=tmp_path)).stdout
    rows = lines.splitlines()
    assert len(rows) == 6
    assert len({row.index("DOWN (not running)") for row in rows}) == 1
    listens_at = {len(row) - len(row.split("DOWN (not running)")[1].lstrip()) for row in rows}
    assert len(listens_at) == 1


def test_table_sizes_each_column_to_its_widest_cell() -> None:
    assert table([["a", "long value", "x"], ["longer name", "b", "y"]], "  ") == [
        "  a            long value  x",
        "  longer name  b           y",
    ]
    assert table([]) == []
    with pytest.raises(ValueError, match="zip"):
        table([["a", "b"], ["c"]])


def test_status_render_aligns_columns_whatever_the_names() -> None:
    long = "a_feature_group_with_a_name_much_longer_than_any_column_width"
    report = StatusReport(
        interval_s=300,
        jobs=[
            {
                "name": "features",
                "id": "j1",
                "state": "RUNNING",
                "uptime_s": 9,
                "failed_checkpoints": 0,
            },
            {"name": long, "id": "j2", "state": "FAILED"},
        ],
        lag=[{"group": "g", "topic": long, "lag": 5}, {"group": long, "topic": "t", "lag": 12}],
        freshness=[
            {"group": "user_activity", "version": 1, "seconds": 2.0},
            {"group": long, "version": 12, "seconds": 3600.0},
        ],
        dead_letters=[
            {"topic": "dlq.x", "source": "x", "count": 1, "source_count": 10, "share": 0.1},
            {"topic": f"dlq.{long}", "source": long, "count": 0, "source_count": 0, "share": 0.0},
        ],
    )
    lines = render(report)

    def offsets(first: str, cells: list[list[str]]) -> set[tuple[int, ...]]:
        section = lines[lines.index(first) + 1 :][: len(cells)]
        return {
            tuple(line.index(cell, len(row[0]) + 2) for cell in row[1:])
            for line, row in zip(section, cells, strict=True)
        }

    assert len(offsets("Flink jobs", [["features", "RUNNING"], [long, "FAILED"]])) == 1
    assert len(offsets("Consumer lag (records)", [["g", long, "5"], [long, "t", "12"]])) == 1
    fresh = [["user_activity", "v1", "2 s"], [long, "v12", "3600 s"]]
    assert len(offsets("Freshness (now minus newest event time in Redis)", fresh)) == 1
    dead = [["dlq.x", "1 of 10"], [f"dlq.{long}", "0 of 0"]]
    assert len(offsets("Dead letters (last 300 s)", dead)) == 1


def test_features_are_fresh_or_expired_as_the_api_answers() -> None:
    group = feature_group("user_activity", 1)
    assert group is not None
    fake, now = FakeRedis(), now_ms()
    fake.put("u1", now - 30_000, count=3, watch_ms=1500)
    fake.put("u2", now - DAY_MS - 60_000, count=1, watch_ms=0)
    answers = {i: served_features(fake, group, i, now) for i in ("u1", "u2", "u3")}
    assert fake.round_trips == 3
    assert [answers[i]["status"] for i in ("u1", "u2", "u3")] == ["fresh", "expired", "missing"]
    assert answers["u1"]["features"] == {
        "user_interactions_count_1m": 3,
        "user_watch_ms_sum_1m": 1500,
    }
    assert answers["u1"]["age_ms"] == 30_000
    with TestClient(create_app(Settings(), fake)) as api:
        for entity_id, answer in answers.items():
            served = api.get(f"/features/user_activity/v1/{entity_id}").json()
            assert served == {**answer, "age_ms": served["age_ms"]}


def test_features_of_an_unknown_group_name_the_known_ones() -> None:
    result = invoke(features, "u1", "--group", "nope")
    assert result.exit_code == 1
    assert "unknown feature group nope v1; known: user_activity v1" in str(result.exception)


def fake_drill_report(ok: bool) -> Report:
    return Report(
        started="2026-01-01T00:00:00+00:00",
        command="sportsfeat drills --only taskmanager-kill",
        rate=300.0,
        drills=[DrillResult("taskmanager-kill", 4.2, 9.8, 3)],
        input=oracle.InputCheck(
            events=1000, bad_records=8, sequence_gaps=0, sequence_repeats=0, redeliveries=2
        ),
        dead_letters=8,
        groups=[oracle.GroupCheck("user_activity", 50, 50, 0, 0 if ok else 1, 0, 0)],
    )


def test_the_drills_document_is_the_report_with_its_verdict(tmp_path: Path) -> None:
    document = json.loads(dumps(drills_document(fake_drill_report(ok=True), tmp_path / "d.md")))
    assert document["ok"] is True
    assert document["report"] == str(tmp_path / "d.md")
    assert document["drills"] == [
        {"drill": "taskmanager-kill", "running_s": 4.2, "checkpoint_s": 9.8, "checkpoints": 3}
    ]
    assert document["groups"][0]["group"] == "user_activity"


def test_drills_json_prints_only_the_report_on_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run_drills(
        settings: Settings, names: list[str], rate: float, command: str, say: Any
    ) -> Report:
        say(f"drill {names[0]} ...")
        return fake_drill_report(ok=False)

    monkeypatch.setattr("flink_jobs.drills.run.run_drills", run_drills)
    settings = replace(NO_STACK, results_dir=tmp_path)
    result = invoke(drills, "--json", "--only", "taskmanager-kill", settings=settings)
    assert result.exit_code == 1  # the oracle failed: a duplicate
    assert json.loads(result.stdout)["ok"] is False
    assert result.stderr == "drill taskmanager-kill ...\n"
    assert (tmp_path / "drills.md").exists() and (tmp_path / "drills.json").exists()


def test_bench_json_prints_the_results_document_and_keeps_the_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = replace(NO_STACK, results_dir=tmp_path)
    calls: list[dict[str, Any]] = []

    def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(kwargs)
        bench_results(settings, quick=True).write_text('{"metrics": []}\n')
        return subprocess.CompletedProcess(argv, 1)

    monkeypatch.setattr(subprocess, "run", run)
    result = invoke(bench, "--quick", "--json", settings=settings)
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"metrics": []}
    assert bench_results(settings, quick=True) == tmp_path / "latest-quick.json"
    assert calls[0]["stdout"] is not None  # the bench's own output: not on stdout


def test_bench_json_does_not_pass_off_old_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = replace(NO_STACK, results_dir=tmp_path)
    old = bench_results(settings, quick=False)
    old.write_text('{"metrics": []}\n')
    monkeypatch.setattr(subprocess, "run", lambda argv, **_: subprocess.CompletedProcess(argv, 2))
    os.utime(old, (0, 0))  # written by an earlier run
    result = invoke(bench, "--json", settings=settings)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"the benchmark (exit 2) wrote no results to {old}" in str(result.exception)


def test_upgrade_dry_run_json_reports_the_check(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    document = json.loads(dumps(check(world.ctx, NAME, Change(parallelism=2)).document()))
    assert document["compatible"] is True and document["problems"] == []
    assert document["same_plan"] is True and document["added_groups"] == []
    assert document["running"]["groups"] == document["new"]["groups"] == ["user_activity.v1"]
    assert "--parallelism" in document["new"]["config"]
    added = check(world.ctx, NAME, Change(groups="user_activity,user_session")).document()
    assert added["added_groups"] == ["user_session.v1"] and added["same_plan"] is False
    assert world.cluster.calls == []  # nothing stopped or started


def test_upgrade_dry_run_json_exits_1_when_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(tmp_path)
    monkeypatch.setattr(
        "flink_jobs.upgrade.Context.live",
        lambda settings, say, verify_timeout_s: replace(world.ctx, say=say),
    )
    result = invoke(
        upgrade_cmd, "--dry-run", "--json", "--job-name", NAME, "--groups", "user_session"
    )
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["compatible"] is False
    assert any("user_activity.v1" in problem for problem in document["problems"])
    assert world.cluster.calls == []


def test_upgrade_json_goes_with_dry_run() -> None:
    result = invoke(upgrade_cmd, "--json")
    assert result.exit_code == 2
    assert "--json goes with --dry-run" in result.stderr
