"""The `sportsfeat` command line: one entry point, one verb per part of the dataflow."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from flink_jobs.catalogue_cmd import backfill_cmd, catalogue
from flink_jobs.errors import UserError
from flink_jobs.generate_cmd import generate
from flink_jobs.job_config import JobConfig
from flink_jobs.logs import configure_process
from flink_jobs.output import dumps, emit, json_option, say_to_stderr, table
from flink_jobs.settings import LOG_FORMATS, Settings, load_settings
from flink_jobs.upgrade_cmd import migrate_cmd, upgrade_cmd

if TYPE_CHECKING:
    from flink_jobs.drills.run import Report as DrillReport
    from flink_jobs.feature_groups import FeatureGroup
    from flink_jobs.serving.store import Store

PORT = click.IntRange(1024, 65535)
DISTRIBUTION = "sportsfeat"  # [project] name in pyproject.toml


def say(line: str) -> None:
    click.echo(line)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    package_name=DISTRIBUTION, prog_name="sportsfeat", message="%(prog)s %(version)s"
)
@click.option("--state-dir", type=click.Path(path_type=Path), help="Data, logs, pids [.stack]")
@click.option("--kafka-port", type=PORT, help="Kafka broker port [9092]")
@click.option("--registry-port", type=PORT, help="Schema registry port [8080]")
@click.option("--redis-port", type=PORT, help="Redis port [6379]")
@click.option("--flink-rest-port", type=PORT, help="Flink REST and web UI port [8081]")
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    help="Logs as JSON lines or text; auto: text on a terminal [auto]",
)
@click.pass_context
def cli(
    ctx: click.Context,
    state_dir: Path | None,
    kafka_port: int | None,
    registry_port: int | None,
    redis_port: int | None,
    flink_rest_port: int | None,
    log_format: str | None,
) -> None:
    """Real-time live-sports features: Kafka -> PyFlink -> Kafka + Redis, on a local stack.

    Every option here can also be set as an environment variable SPORTSFEAT_<NAME>
    (e.g. SPORTSFEAT_KAFKA_PORT); give every command the same values.
    """
    ctx.obj = load_settings().with_overrides(
        state_dir=state_dir.resolve() if state_dir else None,
        kafka_port=kafka_port,
        registry_port=registry_port,
        redis_port=redis_port,
        flink_rest_port=flink_rest_port,
        log_format=log_format,
    )
    configure_process(ctx.obj)


pass_settings = click.make_pass_decorator(Settings)


@cli.command()
@click.option(
    "--write-checksums",
    is_flag=True,
    help="Pin the jars now in the cache (after a deliberate version bump in jvm/pom.xml).",
)
@pass_settings
def setup(settings: Settings, write_checksums: bool) -> None:
    """Fetch and verify the pinned jars; install redis-server and promtool if missing."""
    from flink_jobs.setup_env import setup as run_setup

    run_setup(settings, write_checksums, say)


@cli.group()
def stack() -> None:
    """Start, stop and inspect the local stack (Kafka, registry, Redis, Flink, writer)."""


@stack.command("up")
@pass_settings
def stack_up(settings: Settings) -> None:
    """Start what is not running and wait until every service answers (idempotent)."""
    from flink_jobs.stack import manager

    for row in manager.up(settings, say):
        say(f"  {row.name:9} {row.listens}\n  {'':9} log: {row.log}")


@stack.command("down")
@click.option("--purge", is_flag=True, help="Also delete all data, logs and checkpoints.")
@pass_settings
def stack_down(settings: Settings, purge: bool) -> None:
    """Stop what `stack up` started, by recorded pid."""
    from flink_jobs.stack import manager

    manager.down(settings, purge, say)


@stack.command("status")
@json_option
@pass_settings
def stack_status(settings: Settings, as_json: bool) -> None:
    """Each service, where it listens and whether it answers; exit 1 if any does not."""
    from flink_jobs.stack import manager

    rows = manager.status(settings)
    healthy = all(row.healthy for row in rows)
    document = {
        "healthy": healthy,
        "services": [{**asdict(row), "healthy": row.healthy} for row in rows],
    }
    lines = table(
        [row.name, "ok" if row.healthy else f"DOWN ({row.problem})", row.listens] for row in rows
    )
    emit(as_json, document, lines)
    if not healthy:
        sys.exit(1)


@stack.command("logs")
@click.argument("service")
@click.option("-n", "--lines", type=click.IntRange(1), default=50, show_default=True)
@pass_settings
def stack_logs(settings: Settings, service: str, lines: int) -> None:
    """Print the last lines of SERVICE's log (kafka, registry, redis, flink, writer)."""
    from flink_jobs.stack import manager

    for path in manager.log_files(settings, service):
        if not path.exists():
            raise UserError(f"{service} has no log yet at {path}: has the stack been started?")
        say(f"==> {path} <==")
        say("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))


@cli.group()
def schemas() -> None:
    """Govern the Avro schemas in schemas/ and the registry."""


LEVEL = click.Choice(
    ["NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL",
     "FULL_TRANSITIVE"]
)  # fmt: skip


@schemas.command("register")
@click.option("--compatibility", type=LEVEL, help="Override schemas/compatibility.json.")
@pass_settings
def schemas_register(settings: Settings, compatibility: str | None) -> None:
    """Check, then register every schemas/<subject>.avsc under its subject (idempotent)."""
    from flink_jobs.registry import RegistryClient
    from flink_jobs.schema_governance import register_all

    for subject, schema_id, level in register_all(
        RegistryClient(settings.registry_url), compatibility
    ):
        say(f"{subject}: schema id {schema_id}, compatibility {level}")


@schemas.command("check")
@click.option(
    "--registry",
    "against_registry",
    is_flag=True,
    help="Also ask the live registry whether each schema may be registered.",
)
@json_option
@pass_settings
def schemas_check(settings: Settings, against_registry: bool, as_json: bool) -> None:
    """Prove every working schema compatible with all its released versions (exit 1 if not).

    Released versions live in git under schemas/released/<subject>/v<N>.avsc; the level per
    subject comes from schemas/compatibility.json. No registry is needed.
    """
    from flink_jobs.registry import RegistryClient, schema_files
    from flink_jobs.schema_governance import check_schema

    client = RegistryClient(settings.registry_url) if against_registry else None
    checks = [
        (
            check_schema(schema),
            None if client is None else client.is_compatible(schema.subject, schema.canonical()),
        )
        for schema in schema_files()
    ]
    ok = all(not result.problems and accepted is not False for result, accepted in checks)
    if as_json:
        subjects = [{**asdict(result), "registry_accepts": accepted} for result, accepted in checks]
        say(dumps({"ok": ok, "subjects": subjects}))
    else:
        for result, accepted in checks:
            for line in result.lines():
                click.echo(f"INCOMPATIBLE {line}", err=True)
            if not result.problems:
                versions = ", ".join(f"v{v}" for v in result.released_versions) or "none released"
                say(f"ok  {result.subject} ({result.level} against {versions})")
            if accepted is False:
                click.echo(f"INCOMPATIBLE {result.subject}: rejected by the registry", err=True)
    if not ok:
        sys.exit(1)


@schemas.command("diff")
def schemas_diff() -> None:
    """Field-level changes of each working schema against its latest released version."""
    from flink_jobs.registry import schema_files
    from flink_jobs.schema_governance import diff

    for schema in schema_files():
        lines = diff(schema)
        say(f"{schema.subject}: {'unchanged' if not lines else ''}")
        for line in lines:
            say(f"  {line}")


@schemas.command("release")
def schemas_release() -> None:
    """Record each changed, compatible working schema as its next released version."""
    from flink_jobs.registry import schema_files
    from flink_jobs.schema_governance import release

    for schema in schema_files():
        path = release(schema)
        say(f"{schema.subject}: {'released as ' + str(path) if path else 'already released'}")


@schemas.command("list")
@json_option
@pass_settings
def schemas_list(settings: Settings, as_json: bool) -> None:
    """Each subject: its level, released versions in git, and versions in the registry."""
    from flink_jobs.registry import RegistryClient, schema_files
    from flink_jobs.schema_governance import compatibility_level, released

    client = RegistryClient(settings.registry_url)
    subjects: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    for schema in schema_files():
        level, latest = compatibility_level(schema.subject), client.latest(schema.subject)
        versions = [version for version, _ in released(schema.subject)]
        registry = {"version": latest[1], "id": latest[0]} if latest else None
        subjects.append(
            {
                "subject": schema.subject,
                "compatibility": level,
                "released_versions": versions,
                "registry": registry,
            }
        )
        in_registry = f"registry v{latest[1]} (id {latest[0]})" if latest else "not registered"
        released_text = ", ".join(f"v{v}" for v in versions) or "none"
        rows.append([schema.subject, level, f"released {released_text}", in_registry])
    emit(as_json, {"subjects": subjects}, table(rows))


def _job_options(command: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        [
            click.option(
                "--groups",
                default="",
                help="Comma-separated feature groups to compute (default: the whole catalogue; "
                "`sportsfeat catalogue list` shows them).",
            ),
            click.option("--job-name", default=JobConfig.job_name, show_default=True),
            click.option("--parallelism", type=click.IntRange(1, 64), default=1, show_default=True),
        ]
    ):
        command = option(command)
    return command


@cli.command()
@_job_options
@click.option("--local", is_flag=True, help="Run in a local mini-cluster in this terminal instead.")
@click.option(
    "--plan/--no-plan",
    "from_plan",
    default=True,
    show_default=True,
    help="Run from a compiled plan (compiled on first use) and wait until it checkpoints: "
    "stable operator ids, which `sportsfeat upgrade` needs to carry the state to new versions. "
    "--no-plan submits the job as built (ids are hashes of its topology: no upgrade can move "
    "its state to a changed job).",
)
@pass_settings
def run(
    settings: Settings, groups: str, job_name: str, parallelism: int, local: bool, from_plan: bool
) -> None:
    """Register schemas, create topics and start the feature job from its compiled plan
    (idempotent): every feature group of the catalogue in one job, resumed from its
    savepoint if `stack down` took one."""
    from flink_jobs import pipeline, submit

    config = JobConfig(
        bootstrap=settings.kafka_bootstrap, registry_url=settings.registry_url,
        groups=groups, job_name=job_name, consumer_group=job_name, parallelism=parallelism,
    )  # fmt: skip
    try:
        config.feature_groups()
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    if from_plan and not local:  # a local mini-cluster keeps no state beyond its run
        from flink_jobs.upgrade import Context, deploy

        deployment = deploy(Context.live(settings, say), config, selection=groups)
        say(f"{job_name} runs as {deployment.job_id} from {deployment.version.plan}")
        return
    pipeline.prepare(settings, config, say)
    if local:
        say("running in a local mini-cluster; Ctrl-C stops it")
        sys.exit(submit.run_local(settings, config))
    submission = submit.submit(settings, config)
    say(submission.describe(job_name))
    say(f"  web UI {settings.flink_rest_url}/#/job/running/{submission.job_id}/overview")


@cli.command()
@click.option("--topic", default="fan.interactions", show_default=True)
@click.option("--file", "events_file", type=click.File(), help="JSON lines, one event each.")
@click.option(
    "--count",
    type=click.IntRange(1),
    default=1000,
    show_default=True,
    help="How many generated events (without --file).",
)
@click.option("--users", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@pass_settings
def produce(
    settings: Settings, topic: str, events_file: TextIO | None, count: int, users: int, seed: int
) -> None:  # fmt: skip
    """Produce events with the registered schema: from --file, or generated (ending now)."""
    import itertools
    import json
    import time

    from flink_jobs.generator import GeneratorConfig, interactions
    from flink_jobs.producer import GovernedProducer

    producer = GovernedProducer(settings.kafka_bootstrap, settings.registry_url, topic, "user_id")
    if events_file is not None:
        try:
            events = [json.loads(line) for line in events_file if line.strip()]
        except json.JSONDecodeError as exc:
            raise UserError(
                f"{events_file.name}: line {exc.lineno} is not JSON: {exc.msg}"
            ) from exc
    else:
        rate = 50.0
        start = int(time.time() * 1000) - int(count / rate * 1000)
        cfg = GeneratorConfig(seed=seed, users=users, start_ms=start, events_per_second=rate)
        events = list(itertools.islice(interactions(cfg), count))
    say(f"{producer.send_all(events)} events produced to {topic}")


def served_features(
    store: Store, group: FeatureGroup, entity_id: str, now_ms: int
) -> dict[str, Any]:
    """What the feature API answers for `entity_id` in `group`, by the API's own code: its
    values with status fresh or expired (event time against the group's TTL), or missing."""
    import asyncio

    from flink_jobs.serving.app import Metrics, ServedGroup

    served = ServedGroup(group, Metrics().expired)
    [stored] = asyncio.run(store.hmget([served.key_prefix + entity_id], served.fields))
    return served.entity(entity_id, stored, now_ms)


@cli.command()
@click.argument("entity_id")
@click.option("--group", default="user_activity", show_default=True)
@click.option("--version", type=click.IntRange(1), default=1, show_default=True)
@pass_settings
def features(settings: Settings, entity_id: str, group: str, version: int) -> None:
    """Print ENTITY_ID's (e.g. a user id's) value of a feature group from Redis, as the
    feature API answers it: JSON, with status fresh or expired. Exit 1 if there is none."""
    import time

    import redis

    from flink_jobs.feature_groups import FEATURE_GROUPS, feature_group
    from flink_jobs.serving.app import ENTITY_ID, ENTITY_RULE
    from flink_jobs.serving.store import RedisStore

    chosen = feature_group(group, version)
    if chosen is None:
        known = ", ".join(f"{g.name} v{g.version}" for g in FEATURE_GROUPS)
        raise UserError(f"unknown feature group {group} v{version}; known: {known}")
    if not ENTITY_ID.fullmatch(entity_id):
        raise UserError(f"malformed entity id {entity_id!r}: use {ENTITY_RULE}")
    host, port = settings.redis_endpoint
    store = RedisStore(host, port, password=settings.redis_password)
    try:
        answer = served_features(store, chosen, entity_id, time.time_ns() // 1_000_000)
    except redis.RedisError as exc:
        raise UserError(
            f"Redis does not answer at {settings.redis_url} ({exc}): start the stack with "
            "`sportsfeat stack up`"
        ) from exc
    finally:
        store.close()
    if answer["status"] == "missing":
        raise UserError(f"no features for {entity_id!r} in {chosen.ref.key(entity_id)}")
    say(dumps(answer))


def drills_document(report: DrillReport, path: Path) -> dict[str, Any]:
    """`drills --json`: the report with its verdict and where its Markdown was written."""
    return {"ok": report.ok, **asdict(report), "report": str(path)}


@cli.command()
@click.option("--quick", is_flag=True, help="Only a TaskManager kill and a hard broker restart.")
@click.option("--only", multiple=True, metavar="DRILL", help="Run just these drills (repeatable).")
@click.option("--rate", type=click.FloatRange(1), default=300, show_default=True,
              help="Steady load, events per second.")  # fmt: skip
@json_option
@pass_settings
def drills(
    settings: Settings, quick: bool, only: tuple[str, ...], rate: float, as_json: bool
) -> None:
    """Failure drills on the running stack: kill -9 TaskManager and JobManager, restart Kafka
    (clean and hard), Redis and the registry, crash right after a checkpoint, all under
    steady load with poison pills; then an oracle proves no feature update was lost or
    duplicated. Writes benchmarks/results/drills[-quick].md; exit 1 when the oracle fails.
    With --json the progress goes to stderr and the report to stdout, as JSON."""
    from flink_jobs.drills.faults import DRILLS, QUICK
    from flink_jobs.drills.run import run_drills, write_report

    unknown = [name for name in only if name not in DRILLS]
    if unknown:
        raise UserError(f"unknown drill {unknown[0]!r}; drills: {', '.join(DRILLS)}")
    names = list(only) or list(QUICK if quick else DRILLS)
    command = (
        "sportsfeat drills"
        + (" --quick" if quick else "")
        + "".join(f" --only {name}" for name in only)
    )
    report = run_drills(settings, names, rate, command, say_to_stderr if as_json else say)
    path = write_report(report, "drills-quick" if quick else "drills", settings.results_dir)
    emit(as_json, drills_document(report, path), [report.markdown(), f"report: {path}"])
    if not report.ok:
        sys.exit(1)


@cli.command()
@pass_settings
def demo(settings: Settings) -> None:
    """Stack up, job running, events produced, features printed from Kafka and Redis."""
    from flink_jobs.demo import run_demo
    from flink_jobs.stack import manager

    manager.up(settings, say)
    run_demo(settings, say)


@cli.command()
@click.option("--topic", "topics", multiple=True, help="A feature topic (repeatable) [all].")
@click.option("--wipe", is_flag=True, help="Delete the groups' stored values first.")
@pass_settings
def rebuild(settings: Settings, topics: tuple[str, ...], wipe: bool) -> None:
    """Restore the Redis online store from the Kafka feature topics (replay, event-time guarded)."""
    from flink_jobs.rebuild import rebuild as run_rebuild

    run_rebuild(settings, list(topics), wipe, say)


@cli.command("status")
@json_option
@click.option(
    "--job",
    "jobs",
    multiple=True,
    default=[JobConfig.job_name],
    show_default=True,
    help="A Flink job that must be RUNNING; its consumer group's lag is shown (repeatable).",
)
@click.option(
    "--interval",
    type=click.IntRange(10),
    default=300,
    show_default=True,
    help="Count dead letters over this many seconds.",
)
@pass_settings
def status_command(settings: Settings, as_json: bool, jobs: tuple[str, ...], interval: int) -> None:
    """Jobs, checkpoints, lag, freshness, dead letters, API health; exit 1 if any is unhealthy."""
    import time

    from flink_jobs.status import Limits, collect, render
    from flink_jobs.status_sources import LiveSources
    from flink_jobs.writer import WRITER_GROUP

    limits = Limits(interval_s=interval)
    report = collect(
        LiveSources(settings), jobs, [WRITER_GROUP, *jobs], limits, int(time.time() * 1000)
    )
    for line in [report.to_json()] if as_json else render(report):
        say(line)
    if not report.healthy:
        sys.exit(1)


@cli.command()
@pass_settings
def serve(settings: Settings) -> None:
    """Run the feature-serving API in the foreground (the stack runs one already)."""
    from flink_jobs.serving.__main__ import serve as run_api

    run_api(settings)


@cli.command()
@pass_settings
def writer(settings: Settings) -> None:
    """Run the online-store writer in the foreground (the stack runs one already)."""
    from flink_jobs.writer import run_writer

    run_writer(settings)


def bench_results(settings: Settings, quick: bool) -> Path:
    """The JSON results document `benchmarks.bench` writes (benchmarks/report.py)."""
    return settings.results_dir / f"{'latest-quick' if quick else 'latest'}.json"


@cli.command()
@click.option("--quick", is_flag=True, help="Small, under 5 minutes; fails only on wrong values.")
@click.option("--runs", type=click.IntRange(1), help="Repetitions per system [quick 1, full 3].")
@click.option("--events", type=click.IntRange(1000), help="Backlog size [quick 150k, full 12M].")
@json_option
@pass_settings
def bench(
    settings: Settings, quick: bool, runs: int | None, events: int | None, as_json: bool
) -> None:
    """The pipeline against the read limit and a peer (Quix Streams), side by side, on the
    running stack; writes benchmarks/results/latest[-quick].{json,md} and PNG plots. Exit 1
    when values are wrong or no results arrive (benchmarks/bench.py explains the method).
    With --json the bench's output goes to stderr and its results document to stdout."""
    import subprocess
    import time

    from flink_jobs.settings import PROJECT_ROOT

    argv = [sys.executable, "-m", "benchmarks.bench", *(["--quick"] if quick else [])]
    argv += [
        *(["--runs", str(runs)] if runs else []),
        *(["--events", str(events)] if events else []),
    ]
    env = {**os.environ, **settings.as_environment()}
    started = time.time()
    stdout = sys.stderr if as_json else None
    code = subprocess.run(argv, cwd=PROJECT_ROOT, env=env, stdout=stdout, check=False).returncode
    if as_json:
        results = bench_results(settings, quick)
        if not results.exists() or results.stat().st_mtime < started:
            raise UserError(f"the benchmark (exit {code}) wrote no results to {results}")
        click.echo(results.read_text(), nl=False)
    sys.exit(code)


cli.add_command(generate)
cli.add_command(catalogue)
catalogue.add_command(migrate_cmd)
cli.add_command(upgrade_cmd)
cli.add_command(backfill_cmd)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user mistakes and unreachable services end in one line, not a traceback."""
    try:
        cli.main(args=argv, prog_name="sportsfeat", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # a group without its subcommand
        exc.show()  # its usage and help, on stderr
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        path = exc.ctx.command_path if exc.ctx else "sportsfeat"
        click.echo(f"error: {exc.format_message()} (see `{path} --help`)", err=True)
        sys.exit(2)
    except click.Abort:
        sys.exit(130)
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
