"""`sportsfeat catalogue`: the feature groups as declared, their SQL, schemas and releases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from flink_jobs.errors import UserError
from flink_jobs.features.avro import feature_schema
from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.features.columns import source_columns
from flink_jobs.features.compile import Mode, group_statements, render, source_statements
from flink_jobs.features.model import FeatureGroup, span
from flink_jobs.features.released import check, release
from flink_jobs.features.validate import CatalogueError, validate
from flink_jobs.output import emit, json_option, table
from flink_jobs.registry import SCHEMA_DIR
from flink_jobs.settings import Settings


def _groups(names: tuple[str, ...]) -> tuple[FeatureGroup, ...]:
    known = {g.name: g for g in CATALOGUE}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UserError(f"unknown feature group {unknown[0]!r}; known: {', '.join(known)}")
    return tuple(known[n] for n in names) if names else CATALOGUE


@click.group()
def catalogue() -> None:
    """The declared feature groups: list them, show their generated SQL, check and release."""


def _described(group: FeatureGroup) -> dict[str, Any]:
    """A group as `catalogue list --json` shows it."""
    return {
        "name": group.name,
        "version": group.version,
        "topic": group.topic,
        "entity": group.entity,
        "source": group.source.topic,
        "window": str(group.window),
        "ttl_s": int(group.ttl.total_seconds()),
        "features": [
            {"name": f.name, "agg": f.agg.value, "column": f.column} for f in group.features
        ],
    }


@catalogue.command("list")
@json_option
def list_groups(as_json: bool) -> None:
    """Every group: version, entity, window, TTL and features."""
    heads = table(
        [g.topic, f"entity {g.entity}", f"{g.window}, ttl {span(g.ttl)}"] for g in CATALOGUE
    )
    rows = ([f.name, f.agg.value, f.column or ""] for g in CATALOGUE for f in g.features)
    features = iter(table(rows, "    "))  # one table: every group's features aligned alike
    lines = []
    for group, head in zip(CATALOGUE, heads, strict=True):
        lines += [head, *(next(features) for _ in group.features)]
    emit(as_json, {"groups": [_described(g) for g in CATALOGUE]}, lines)


@catalogue.command("sql")
@click.argument("groups", nargs=-1)
@click.option("--mode", type=click.Choice([m.value for m in Mode]), default="streaming",
              show_default=True)  # fmt: skip
def sql(groups: tuple[str, ...], mode: str) -> None:
    """The SQL the engine generates for GROUPS (default: all), as the job runs it."""
    chosen, run_mode = _groups(groups), Mode(mode)
    sources = {g.source.topic: g.source for g in chosen}
    for topic, source in sources.items():
        click.echo(render(source_statements(source, list(source_columns(topic)), run_mode)))
    for group in chosen:
        click.echo(render(group_statements(group, run_mode)))


@catalogue.command("schemas")
def schemas() -> None:
    """Write each group's feature-topic schema (schemas/features.<group>.v<n>-value.avsc)."""
    for group in CATALOGUE:
        path = SCHEMA_DIR / f"{group.topic}-value.avsc"
        text = json.dumps(feature_schema(group), indent=2) + "\n"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            click.echo(f"wrote {path.relative_to(SCHEMA_DIR.parent)}")


@catalogue.command("check")
def check_catalogue() -> None:
    """Validate every definition; released versions unchanged; schema files current."""
    try:
        validate(CATALOGUE)
    except CatalogueError as exc:
        raise UserError(str(exc)) from exc
    problems = check(CATALOGUE)
    for group in CATALOGUE:
        path = SCHEMA_DIR / f"{group.topic}-value.avsc"
        if not path.exists() or json.loads(path.read_text()) != feature_schema(group):
            problems.append(f"{path.name} is stale: run `sportsfeat catalogue schemas`")
    if problems:
        raise UserError("catalogue check failed:\n  " + "\n  ".join(problems))
    features = sum(len(g.features) for g in CATALOGUE)
    click.echo(f"ok: {len(CATALOGUE)} groups, {features} features, released versions unchanged")


@catalogue.command("release")
def release_groups() -> None:
    """Freeze every unreleased group version (its definition kept in git from now on)."""
    for group in CATALOGUE:
        path = release(group)
        click.echo(f"released {group.topic} -> {path}" if path else f"{group.topic}: released")


@click.command("backfill")
@click.argument("groups", nargs=-1)
@click.option(
    "--events",
    "events_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON lines of decoded events (event_time as 'yyyy-MM-dd HH:mm:ss.SSS', UTC).",
)
@click.option(
    "--topic", help="Instead of --events: a source topic, read from its start to its current end."
)
@click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON lines {"entity": ..., "at": "yyyy-MM-dd HH:mm:ss.SSS"}: also write '
    "point-in-time training rows.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for <topic>/ feature rows and training/<topic>/ rows (JSON lines).",
)
@click.pass_obj
def backfill_cmd(
    settings: Settings, groups: tuple[str, ...], events_file: Path | None, topic: str | None,
    labels: Path | None, out: Path,
) -> None:  # fmt: skip
    """Compute GROUPS (default: all) in Flink's batch mode from an event file or a bounded
    topic, with the same definitions the streaming job runs."""
    from flink_jobs.backfill import TopicRange, backfill

    if (events_file is None) == (topic is None):
        raise UserError("give exactly one of --events FILE or --topic TOPIC")
    events = events_file or TopicRange(settings.kafka_bootstrap, settings.registry_url, str(topic))
    backfill(_groups(groups), events, out, labels, say=click.echo)
