"""Savepoint upgrades of the feature job (`sportsfeat upgrade`), and starting a job from a
compiled plan in the first place (`deploy`, `sportsfeat run --plan`).

An upgrade moves the running job to this checkout's version:
(a) check, before touching anything, that the new version can take over the running one's
    state: the recorded manifests (flink_jobs/compatibility.py), then the compiled plans
    (every running operator kept under its id, flink_jobs/plans.py);
(b) stop the running job with a savepoint, never draining it (open windows stay open and
    close in the new job);
(c) start the new version from that savepoint, never with --allowNonRestoredState;
(d) wait until every task is RUNNING and a checkpoint has completed, within a bound;
(e) if (c) or (d) fails, cancel the new job and start the previous version again from the
    same savepoint.
Every attempt is logged (flink_jobs/deployments.py).

Locally a rollback runs this checkout's code with the previous plan and configuration (the
plan fixes the queries; tables and functions are registered by the current code); on
Kubernetes it is the previous image (docs/runbook.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from flink_jobs import deployments, plans, savepoints
from flink_jobs.cluster import TERMINAL, Cluster, Health, LiveCluster
from flink_jobs.compatibility import added_groups, manifest_problems
from flink_jobs.deployments import Deployment, Version
from flink_jobs.errors import UserError
from flink_jobs.job_config import JobConfig
from flink_jobs.manifest import feature_topics, group_key, manifest
from flink_jobs.settings import Settings
from flink_jobs.stack.flink_dist import flink_dist


@dataclass(frozen=True)
class Change:
    """What the new version changes besides the code; None keeps the running job's value."""

    groups: str | None = None  # as --groups takes them; "" is the whole catalogue
    parallelism: int | None = None
    checkpoint_interval_s: int | None = None
    idleness: str | None = None  # JobConfig.idleness: "lag-aware" or "flink"


@dataclass(frozen=True)
class Context:
    settings: Settings
    cluster: Cluster
    say: Callable[[str], None]
    compiler: plans.Compiler = plans.compile_plan
    verify_timeout_s: float = 120.0
    poll_s: float = 1.0

    @classmethod
    def live(cls, settings: Settings, say: Callable[[str], None], verify_timeout_s: float = 120.0
             ) -> Context:  # fmt: skip
        compiler = partial(plans.compile_plan, dist=flink_dist(settings))
        return cls(settings, LiveCluster(settings), say, compiler, verify_timeout_s)


class StartFailed(UserError):
    """(c) or (d) failed; `job_id` is the job if it was submitted."""

    def __init__(self, reason: str, job_id: str | None) -> None:
        super().__init__(reason)
        self.job_id = job_id


def start_healthy(ctx: Context, config: JobConfig, plan: Path, savepoint: str | None) -> str:
    """(c) and (d): the job started from `plan` and healthy, or StartFailed."""
    job_id = None
    try:
        job_id = ctx.cluster.start(config, plan, savepoint)
        resumed = f", restored from {savepoint}" if savepoint else ""
        ctx.say(f"started  {config.job_name} as {job_id}{resumed}; waiting until every task "
                "is RUNNING and a checkpoint completed")  # fmt: skip
        wait_healthy(ctx, job_id)
    except UserError as exc:
        raise StartFailed(str(exc), job_id) from exc
    return job_id


def wait_healthy(ctx: Context, job_id: str) -> Health:
    """(d): every task RUNNING and a checkpoint completed within the bound; UserError if not."""
    deadline = time.monotonic() + ctx.verify_timeout_s
    said_running = False
    while True:
        try:
            health = ctx.cluster.health(job_id)
        except UserError as exc:  # the REST API may not know a job it just accepted
            health = Health("UNKNOWN", 0, 0, 0, str(exc))
        if health.state in TERMINAL:
            raise UserError(f"job {job_id} is {health.describe()}")
        if health.healthy:
            ctx.say(f"healthy  {job_id}: {health.describe()}")
            return health
        if time.monotonic() >= deadline:
            raise UserError(
                f"job {job_id} was not RUNNING with a completed checkpoint within "
                f"{ctx.verify_timeout_s:.0f} s: {health.describe()}"
            )
        if not said_running and health.state == "RUNNING" and health.tasks == health.tasks_running:
            ctx.say(f"running  every task of {job_id} runs; waiting for a checkpoint")
            said_running = True
        time.sleep(ctx.poll_s)


def _written_elsewhere(ctx: Context, job_name: str) -> dict[str, str]:
    """Feature topics that other running jobs write, with the job writing each."""
    taken = {}
    for other in deployments.every(ctx.settings):
        if other.job_name != job_name and ctx.cluster.active_job(other.job_name) == other.job_id:
            for topic in feature_topics(other.version.manifest):
                taken[topic] = other.job_name
    return taken


def candidate(
    ctx: Context, config: JobConfig, selection: str, running: Version | None
) -> tuple[Version, list[str]]:
    """The version `config` makes, and why it cannot take over `running`'s state (empty: it
    can). The plan is compiled, or reused, only once the manifests agree."""
    version = Version(
        config=config.argv(), selection=selection,
        plan=str(plans.plan_path(ctx.settings, config)),
        fingerprint=plans.fingerprint(config), manifest=manifest(config),
    )  # fmt: skip
    taken = _written_elsewhere(ctx, config.job_name)
    problems = [
        f"{key} writes {topic}, which job {taken[topic]} writes already: two jobs must not "
        "write one feature topic"
        for topic, key in feature_topics(version.manifest).items()
        if topic in taken
    ]
    if running is not None:
        problems += manifest_problems(running.manifest, version.manifest)
    if problems:
        return version, problems
    plan = plans.load(plans.plan_for(ctx.settings, config, ctx.compiler, ctx.say))
    if running is not None:
        problems += plans.plan_changes(plans.load(Path(running.plan)), plan)
    if version_problem := plans.version_problem(plan, ctx.cluster.flink_version()):
        problems.append(version_problem)
    return version, problems


def target_config(ctx: Context, running: Deployment, change: Change) -> tuple[JobConfig, str]:
    """The new version's config and group selection: the running job's, changed by `change`,
    its groups resolved against this checkout's catalogue, running groups first (so their
    operators keep their plan ids), groups that other jobs compute left out."""
    base = running.version.job_config()
    selection = running.version.selection if change.groups is None else change.groups
    try:
        wanted = replace(base, groups=selection).feature_groups()
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    taken = _written_elsewhere(ctx, running.job_name)
    groups = []
    for group in wanted:
        if (topic := base.feature_topic(group)) in taken:
            ctx.say(f"check    {group_key(group)} left out: job {taken[topic]} computes it")
        else:
            groups.append(group)
    if not groups:
        raise UserError(f"no feature group left for {running.job_name} (selection {selection!r})")
    order = list(running.version.manifest["groups"])
    groups.sort(key=lambda g: order.index(k) if (k := group_key(g)) in order else len(order))
    config = replace(
        base,
        groups=",".join(group_key(g) for g in groups),
        parallelism=change.parallelism or base.parallelism,
        checkpoint_interval_s=change.checkpoint_interval_s or base.checkpoint_interval_s,
        idleness=change.idleness or base.idleness,
    )
    return config, selection


def running_deployment(ctx: Context, job_name: str) -> Deployment:
    """The recorded deployment of the running job `job_name`; UserError if there is none."""
    job_id = ctx.cluster.active_job(job_name)
    if job_id is None:
        raise UserError(f"no job {job_name} is running: start it with `sportsfeat run --plan`")
    running = deployments.load(ctx.settings, job_name)
    if running is None or running.job_id != job_id:
        raise UserError(
            f"{job_name} runs as {job_id} but was not started from a compiled plan (`sportsfeat "
            "run` without --plan?): its operator ids are hashes of its topology, which no other "
            "version reproduces, so no upgrade can take over its state"
        )
    return running


@dataclass(frozen=True)
class Check:
    """Step 1: can this checkout's version of a job take over the running one's state?"""

    running: Deployment
    config: JobConfig
    target: Version
    problems: list[str]  # none: it can

    @property
    def added(self) -> list[str]:
        return added_groups(self.running.version.manifest, self.target.manifest)

    @property
    def same_plan(self) -> bool:
        return self.target.plan == self.running.version.plan

    def document(self) -> dict[str, Any]:
        """As `upgrade --dry-run --json` prints it."""
        return {
            "job_name": self.running.job_name,
            "job_id": self.running.job_id,
            "compatible": not self.problems,
            "problems": self.problems,
            "added_groups": self.added,
            "same_plan": self.same_plan,
            "running": self.running.version.summary(),
            "new": self.target.summary(),
        }


def check(ctx: Context, job_name: str, change: Change) -> Check:
    running = running_deployment(ctx, job_name)
    config, selection = target_config(ctx, running, change)
    target, problems = candidate(ctx, config, selection, running.version)
    return Check(running, config, target, problems)


def upgrade(ctx: Context, job_name: str, change: Change, dry_run: bool = False) -> Deployment:
    """Upgrade the running job `job_name` to this checkout's version (module docstring)."""
    say = ctx.say
    say(f"[1/5] check: can this checkout's {job_name} take over the running job's state?")
    checked = check(ctx, job_name, change)
    running, config, target, problems = (
        checked.running, checked.config, checked.target, checked.problems
    )  # fmt: skip
    if problems:
        if not dry_run:
            deployments.log_upgrade(
                ctx.settings, running, target, None, None, "refused", "; ".join(problems)
            )
        raise UserError(
            f"upgrade of {job_name} refused; nothing was stopped:\n  " + "\n  ".join(problems)
        )
    before = running.version.job_config()
    added = checked.added
    say(
        f"check    compatible: {len(running.version.manifest['groups'])} groups keep their "
        f"state, {'added: ' + ', '.join(added) if added else 'none added'}; "
        f"{'same plan' if checked.same_plan else 'new plan keeps every running operator'}; "
        f"parallelism {before.parallelism} -> {config.parallelism}, checkpoints every "
        f"{before.checkpoint_interval_s} -> {config.checkpoint_interval_s} s, idleness "
        f"{before.idleness} -> {config.idleness}"
    )
    if dry_run:
        say("dry run: nothing was stopped or started")
        return running
    ctx.cluster.prepare(config, say)  # topics and subjects of added groups: before the stop
    say(f"[2/5] stop {job_name} ({running.job_id}) with a savepoint, without draining it")
    try:
        savepoint = ctx.cluster.stop_with_savepoint(running.job_id)
    except UserError as exc:
        deployments.log_upgrade(ctx.settings, running, target, None, None, "failed", str(exc))
        raise UserError(f"upgrade of {job_name} stopped at the savepoint: {exc}") from exc
    say(f"savepoint {savepoint}")
    say("[3/5] start the new version from the savepoint, [4/5] verify it")
    try:
        new_id = start_healthy(ctx, config, Path(target.plan), savepoint)
    except StartFailed as exc:
        _roll_back(ctx, running, target, savepoint, exc.job_id, str(exc))
    deployment = Deployment(job_name, new_id, target, deployments.now(), savepoint)
    deployments.save(ctx.settings, deployment)
    deployments.log_upgrade(ctx.settings, running, target, new_id, savepoint, "upgraded")
    say(f"[5/5] upgraded: {job_name} runs as {new_id} from {target.plan}")
    return deployment


def _roll_back(
    ctx: Context, running: Deployment, target: Version, savepoint: str, new_id: str | None,
    failure: str,
) -> NoReturn:  # fmt: skip
    """(e): the new version failed; start the running version again from the savepoint."""
    ctx.say(f"[5/5] roll back: {failure}")
    name, committed = running.job_name, ""
    stray = ctx.cluster.active_job(name) or new_id
    if stray is not None:
        ctx.say(f"cancel   {stray}")
        try:
            ctx.cluster.cancel(stray)
            if ctx.cluster.health(stray).checkpoints:
                committed = (
                    " The new version completed checkpoints before it was cancelled: the "
                    "windows it committed are written once more by the previous version, with "
                    "the same values (the writer's event-time guard keeps each window's newest "
                    "write)."
                )
        except UserError as exc:
            ctx.say(f"warning  {exc}")
    previous = running.version
    try:
        old_id = start_healthy(ctx, previous.job_config(), Path(previous.plan), savepoint)
    except StartFailed as exc:
        detail = f"{failure}; rollback: {exc}"
        deployments.log_upgrade(ctx.settings, running, target, new_id, savepoint, "failed", detail)
        left = f" (job {exc.job_id} was left as it is)" if exc.job_id else ""
        raise UserError(
            f"upgrade of {name} failed ({failure}) and so did the rollback ({exc}){left}. The "
            f"job's state is in the savepoint {savepoint}: start a version from it with "
            "`flink run -s` (never --allowNonRestoredState)"
        ) from exc
    deployments.save(ctx.settings, Deployment(name, old_id, previous, deployments.now(), savepoint))
    deployments.log_upgrade(
        ctx.settings, running, target, new_id, savepoint, "rolled back", failure
    )
    raise UserError(
        f"upgrade of {name} failed: {failure}. Rolled back: the previous version runs again as "
        f"{old_id}, restored from {savepoint}.{committed}"
    )


def deploy(ctx: Context, config: JobConfig, selection: str) -> Deployment:
    """Start `config` from its compiled plan (compiled on first use) unless a job of its name
    runs already, resuming from the savepoint `stack down` took; record the deployment."""
    name = config.job_name
    keys = ",".join(group_key(g) for g in config.feature_groups())
    config = replace(config, groups=keys)  # what the job computes stays as recorded
    recorded = deployments.load(ctx.settings, name)
    active = ctx.cluster.active_job(name)
    if active is not None:
        if recorded is not None and recorded.job_id == active:
            ctx.say(f"{name} already running as {active}, from {recorded.version.plan}")
            return recorded
        raise UserError(
            f"{name} runs as {active}, not from a compiled plan: its operator ids are hashes of "
            "its topology, which no plan reproduces, so its state cannot move to a planned job. "
            "Keep it, or cancel it and run --plan (state starts empty)"
        )
    savepoint = savepoints.pending(ctx.settings).get(name)
    if savepoint is not None and recorded is None:
        raise UserError(
            f"{name} was stopped with the savepoint {savepoint} while it ran without a compiled "
            "plan: no planned job can restore it; resume it with `sportsfeat run --no-plan`"
        )
    running = recorded.version if savepoint is not None and recorded is not None else None
    version, problems = candidate(ctx, config, selection, running)
    if problems:
        resuming = f" from {savepoint}" if savepoint else ""
        raise UserError(f"{name} not started{resuming}:\n  " + "\n  ".join(problems))
    ctx.cluster.prepare(config, ctx.say)
    job_id = start_healthy(ctx, config, Path(version.plan), savepoint)
    deployment = Deployment(name, job_id, version, deployments.now(), savepoint)
    deployments.save(ctx.settings, deployment)
    return deployment
