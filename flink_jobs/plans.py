"""Compiled plans of the feature job: where they live, how they are made, how two compare.

A job run from a compiled plan (`flink_jobs.job --plan`, EXECUTE PLAN) gets its operator
uids from the plan's node ids (`<id>_<kind>`, table.exec.uid.generation PLAN_ONLY), so its
state maps onto any later job whose plan keeps those nodes. Without a plan, uids are hashes
of the whole topology and any change of it orphans the state.

A plan is compiled once per job definition and reused from then on: its fingerprint hashes
what compilation reads (the job's configuration apart from parallelism and checkpoint
interval, and the code and schemas that build its tables and statements), not the Flink
version, so after a Flink patch upgrade the same plan file runs again (plans carry state
across Flink versions; a recompiled plan promises nothing). A changed input only costs a
compilation: `plan_changes` decides whether the new plan keeps the running operators.

Locally plans live in `<state dir>/plans/<job>/<fingerprint>.json`. On Kubernetes the job
runs its environment's released plan, kept in git (`released_plan`) and so in the image: a
test fails when this code compiles another one, and refuses a new one that drops a running
operator.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flink_jobs.errors import UserError
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import PROJECT_ROOT, Settings
from flink_jobs.stack.flink_dist import FlinkDist, own_dist

Plan = dict[str, Any]
Compiler = Callable[[JobConfig, Path], None]

# What each Kubernetes overlay's FlinkDeployment runs (--plan), one per environment: the
# registry URL is a literal of the plan (DECODE_AVRO's argument, see sources.py).
# tests/flink/test_compiled_plans.py keeps each this code's plan of the whole catalogue.
RELEASED_PLANS = PROJECT_ROOT / "flink_jobs" / "features" / "released" / "plans"


def released_plan(environment: str) -> Path:
    return RELEASED_PLANS / f"sportsfeat-features.{environment}.json"


# Runtime settings: not part of a plan.
RUNTIME_ONLY = ("parallelism", "checkpoint_interval_s")
# The code and schemas a plan is compiled from (relative to the project root).
PLAN_INPUTS = (
    "flink_jobs/job.py",
    "flink_jobs/job_config.py",
    "flink_jobs/sources.py",
    "flink_jobs/sinks.py",
    "flink_jobs/features/*.py",
    "udfs/*.py",
    "udfs/java/src/main/**/*.java",
    "schemas/*.avsc",
)


def _inputs(root: Path) -> Iterator[Path]:
    for pattern in PLAN_INPUTS:
        yield from sorted(root.glob(pattern))


def fingerprint(config: JobConfig, root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    fields = {k: v for k, v in vars(config).items() if k not in RUNTIME_ONLY}
    fields["groups"] = [f"{g.name}.v{g.version}" for g in config.feature_groups()]
    digest.update(json.dumps(fields, sort_keys=True).encode())
    for path in _inputs(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def plan_path(settings: Settings, config: JobConfig) -> Path:
    return settings.state_dir / "plans" / config.job_name / f"{fingerprint(config)}.json"


def compile_plan(config: JobConfig, path: Path, dist: FlinkDist | None = None) -> None:
    """Compile the job's statement set into `path` in a local JVM (no cluster, no broker) of
    `dist` (default: this venv's Flink); a cluster's FLINK_*_DIR must not leak into it."""
    leaked = ("FLINK_CONF_DIR", "FLINK_LIB_DIR", "FLINK_OPT_DIR", "FLINK_PLUGINS_DIR")
    env = {k: v for k, v in os.environ.items() if k not in leaked}
    env.update((dist or own_dist()).env())
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "flink_jobs.job", "--compile-plan", str(partial)]
    result = subprocess.run(
        [*argv, *config.argv()], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
        check=False, timeout=600,
    )  # fmt: skip
    if result.returncode != 0 or not partial.exists():
        lines = (result.stderr or result.stdout).strip().splitlines()
        cause = next(
            (ln for ln in reversed(lines) if "Error" in ln or "Exception" in ln),
            lines[-1] if lines else f"exit status {result.returncode}",
        )
        raise UserError(f"compiling the plan of {config.job_name} failed: {cause}")
    partial.replace(path)


def plan_for(
    settings: Settings, config: JobConfig, compiler: Compiler, say: Callable[[str], None]
) -> Path:
    """The job's plan: the one compiled for this definition before, or compiled now."""
    path = plan_path(settings, config)
    if path.exists():
        say(f"plan     {path} (compiled before for this definition: reused)")
    else:
        say(f"plan     compiling {path} (a local JVM, ~20 s)")
        compiler(config, path)
    return path


def load(path: Path) -> Plan:
    if not path.exists():
        raise UserError(f"the compiled plan {path} is missing")
    plan: Plan = json.loads(path.read_text())
    return plan


def _sinks_fed(plan: Plan) -> dict[int, set[str]]:
    """Each node's downstream sink tables (to name what a changed node belongs to)."""
    outputs: dict[int, list[int]] = {}
    for edge in plan["edges"]:
        outputs.setdefault(edge["source"], []).append(edge["target"])
    sinks = {
        node["id"]: node["dynamicTableSink"]["table"]["identifier"].rsplit(".", 1)[-1].strip("`")
        for node in plan["nodes"]
        if "dynamicTableSink" in node
    }
    fed: dict[int, set[str]] = {}

    def visit(node: int) -> set[str]:
        if node not in fed:
            fed[node] = {sinks[node]} if node in sinks else set()
            for target in outputs.get(node, []):
                fed[node] |= visit(target)
        return fed[node]

    for node in plan["nodes"]:
        visit(node["id"])
    return fed


def _inputs_of(plan: Plan) -> dict[int, list[tuple[int, str]]]:
    inputs: dict[int, list[tuple[int, str]]] = {}
    for edge in plan["edges"]:
        shuffle = json.dumps([edge.get("shuffle"), edge.get("shuffleMode")], sort_keys=True)
        inputs.setdefault(edge["target"], []).append((edge["source"], shuffle))
    return inputs


def _content(node: dict[str, Any]) -> dict[str, Any]:
    """What a node keeps state by: all but its id, description and its source's idle timeout
    (a watermark setting of no state: `JobConfig.idleness` switches it both ways)."""
    content = {k: v for k, v in node.items() if k not in ("id", "description")}
    scan = content.get("scanTableSource")
    if scan is not None:
        abilities = [_without_idle_timeout(a) for a in scan.get("abilities", [])]
        content["scanTableSource"] = {**scan, "abilities": abilities}
    return content


def _without_idle_timeout(ability: dict[str, Any]) -> dict[str, Any]:
    params = ability.get("watermarkParams")
    if params is None:
        return ability
    return {**ability, "watermarkParams": {**params, "sourceIdleTimeout": None}}


def plan_changes(running: Plan, new: Plan) -> list[str]:
    """How the new plan fails to keep every node of the running one: the same id (hence
    operator uid), kind, content and inputs. Empty: every running operator and its state
    carries over unchanged; nodes beyond them are new (new state)."""
    nodes = {node["id"]: node for node in new["nodes"]}
    old_inputs, new_inputs = _inputs_of(running), _inputs_of(new)
    fed = _sinks_fed(running)
    problems = []
    for old in running["nodes"]:
        node_id = old["id"]
        now = nodes.get(node_id)
        what = f"operator {node_id} ({old['type']}, feeding {', '.join(sorted(fed[node_id]))})"
        if now is None or now["type"] != old["type"]:
            problems.append(f"{what} is not in the new plan under the same id")
            continue
        before, after = _content(old), _content(now)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        if changed:
            problems.append(f"{what} changed: {', '.join(changed)}")
        elif old_inputs.get(node_id) != new_inputs.get(node_id):
            problems.append(f"{what} has other inputs")
    if problems:
        problems.append(
            "the planner laid the new job out differently: its statements come in another "
            "order (groups are added after the running ones), or a job of a single group "
            "gains a second (the shared source operators are then planned for all columns, "
            "not the one group's)"
        )
    return problems


def version_problem(plan: Plan, cluster_version: str) -> str | None:
    """A plan runs on the Flink version that compiled it or a later one, never an earlier."""
    compiled = tuple(int(p) for p in str(plan["flinkVersion"]).split(".")[:2])
    running = tuple(int(p) for p in cluster_version.split(".")[:2])
    if running < compiled:
        return (
            f"the plan was compiled by Flink {plan['flinkVersion']}, the cluster runs "
            f"{cluster_version}: a plan runs on its own Flink version or a later one"
        )
    return None
