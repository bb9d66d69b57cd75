"""`sportsfeat upgrade` and `sportsfeat catalogue migrate`: the commands over
flink_jobs/upgrade.py and flink_jobs/migrate.py."""

from __future__ import annotations

import sys

import click

from flink_jobs.job_config import IDLENESS, JOB_NAME
from flink_jobs.output import dumps, json_option, say_to_stderr
from flink_jobs.settings import Settings


@click.command("upgrade")
@click.option("--job-name", default=JOB_NAME, show_default=True, help="The running job.")
@click.option(
    "--groups",
    help="Feature groups of the new version, as `run --groups` takes them (name or name.vN, "
    "comma-separated; '' for the whole catalogue) [the running job's selection].",
)
@click.option("--parallelism", type=click.IntRange(1, 64), help="[the running job's]")
@click.option(
    "--checkpoint-interval-s", type=click.IntRange(1), help="Seconds [the running job's]."
)
@click.option(
    "--idleness",
    type=click.Choice(IDLENESS),
    help="How engine v2's sources treat a quiet partition: lag-aware (connector "
    "kafka-lag-aware) or flink (Flink's idle timeout, the fallback) [the running job's].",
)
@click.option(
    "--verify-timeout",
    type=click.IntRange(10),
    default=120,
    show_default=True,
    help="Seconds for the new version to run every task and complete a checkpoint.",
)
@click.option("--dry-run", is_flag=True, help="Only the compatibility check; nothing stops.")
@json_option
@click.pass_obj
def upgrade_cmd(
    settings: Settings, job_name: str, groups: str | None, parallelism: int | None,
    checkpoint_interval_s: int | None, idleness: str | None, verify_timeout: int, dry_run: bool,
    as_json: bool,
) -> None:  # fmt: skip
    """Move the running feature job to this checkout's code and configuration through a
    savepoint, state carried over.

    \b
    1. check, before touching anything, that the new version can take over the running
       job's state: every running feature group present with an identical definition and
       generated SQL (groups may be added; a changed or removed one is refused, naming it
       and the way forward), and every operator of the running job's compiled plan kept
       under its id in the new plan (a plan compiled for the same definition is reused,
       also after a Flink patch upgrade);
    2. stop the running job with a savepoint, never draining it (open windows go on);
    3. start the new version from that savepoint (never --allowNonRestoredState);
    4. verify that every task is RUNNING and a checkpoint completed (--verify-timeout);
    5. if 3 or 4 fails, start the previous version again from the same savepoint and
       report the failure (exit 1).

    The job must have been started from a compiled plan (`sportsfeat run --plan`, or an
    earlier upgrade). Plans are kept in the state directory under plans/<job>/, and every
    attempt is logged in upgrades.jsonl there. A changed definition ships as a new group
    version: see `sportsfeat catalogue migrate --help`. With --dry-run --json, the check's
    result is one JSON document on stdout (exit 1 if the upgrade would be refused).
    """
    from flink_jobs.upgrade import Change, Context, check, upgrade

    if as_json and not dry_run:
        raise click.UsageError("--json goes with --dry-run")
    say = say_to_stderr if as_json else click.echo
    ctx = Context.live(settings, say, verify_timeout_s=verify_timeout)
    change = Change(groups, parallelism, checkpoint_interval_s, idleness)
    if not as_json:
        upgrade(ctx, job_name, change, dry_run)
        return
    document = check(ctx, job_name, change).document()
    click.echo(dumps(document))
    if not document["compatible"]:
        sys.exit(1)


@click.command("migrate")
@click.argument("group")
@click.option("--job-name", default=JOB_NAME, show_default=True, help="The main job.")
@click.option(
    "--wait",
    type=click.IntRange(0),
    default=600,
    show_default=True,
    help="Seconds to follow the catch-up (0: start and report once).",
)
@click.pass_obj
def migrate_cmd(settings: Settings, group: str, job_name: str, wait: int) -> None:
    """Compute GROUP's next version, declared beside the running one in the catalogue, from
    Kafka's retention, and say when it has caught up so readers can switch.

    The main job computes GROUP v<n> and goes on doing so. v<n+1> gets a job of its own
    (<job>-<group>-v<n+1>, from a compiled plan, its own consumer group) that reads the
    source topic from its earliest retained offset with the same streaming semantics, into
    features.<group>.v<n+1>. The command follows the newest window end of both topics and
    returns when v<n+1> has caught up with v<n>; exit 1 if not within --wait (the job keeps
    running: run the command again to follow it). History older than the source topic's
    retention is not in v<n+1>. Idempotent.
    """
    from flink_jobs.migrate import migrate
    from flink_jobs.upgrade import Context

    migrate(Context.live(settings, click.echo), job_name, group, wait)
