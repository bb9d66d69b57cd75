"""Schema governance: released versions kept in git, checked offline before they ship.

`schemas/<subject>.avsc` is the working copy of a subject's schema;
`schemas/released/<subject>/v<N>.avsc` are the versions that have shipped, and
`schemas/compatibility.json` says which compatibility level each subject keeps. A working
copy may be registered only if it is compatible with every released version under that
level: this check needs no registry, so it runs in unit tests and CI, and the registry
enforces the same level again when the schema is registered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flink_jobs.errors import UserError
from flink_jobs.registry import SCHEMA_DIR, RegistryClient, SchemaFile, schema_files
from flink_jobs.schema_compat import Incompatibility, check

RELEASED_DIR = SCHEMA_DIR / "released"
COMPATIBILITY_FILE = SCHEMA_DIR / "compatibility.json"


def compatibility_level(subject: str, levels_file: Path = COMPATIBILITY_FILE) -> str:
    levels = json.loads(levels_file.read_text())
    return str(levels["subjects"].get(subject, levels["default"]))


def released(subject: str, released_dir: Path = RELEASED_DIR) -> list[tuple[int, dict[str, Any]]]:
    """(version, schema) of every released version of `subject`, oldest first."""
    versions = []
    for path in (released_dir / subject).glob("v*.avsc"):
        versions.append((int(path.stem[1:]), json.loads(path.read_text())))
    return sorted(versions, key=lambda v: v[0])


@dataclass(frozen=True)
class CheckResult:
    subject: str
    level: str
    released_versions: list[int]
    problems: list[Incompatibility]

    def lines(self) -> list[str]:
        return [f"{self.subject}: {p.path}: {p.rule}: {p.message}" for p in self.problems]


def check_schema(schema: SchemaFile, released_dir: Path = RELEASED_DIR) -> CheckResult:
    versions = released(schema.subject, released_dir)
    level = compatibility_level(schema.subject)
    problems = check(schema.schema(), [s for _, s in versions], level)
    return CheckResult(schema.subject, level, [v for v, _ in versions], problems)


def _fields(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in schema.get("fields", [])}


def diff(schema: SchemaFile, released_dir: Path = RELEASED_DIR) -> list[str]:
    """Field-level differences of the working copy against the latest released version."""
    versions = released(schema.subject, released_dir)
    if not versions:
        return [f"+ {name} (new subject)" for name in _fields(schema.schema())]
    old, new = _fields(versions[-1][1]), _fields(schema.schema())
    lines = [f"- {name}" for name in old if name not in new]
    for name, field in new.items():
        default = f", default {json.dumps(field['default'])}" if "default" in field else ""
        if name not in old:
            lines.append(f"+ {name}: {json.dumps(field['type'])}{default}")
        elif old[name]["type"] != field["type"] or old[name].get("default") != field.get("default"):
            lines.append(
                f"~ {name}: {json.dumps(old[name]['type'])} -> {json.dumps(field['type'])}{default}"
            )
    return lines


def release(schema: SchemaFile, released_dir: Path = RELEASED_DIR) -> Path | None:
    """Record the working copy as the next released version; None if it is released already."""
    versions = released(schema.subject, released_dir)
    if versions and versions[-1][1] == schema.schema():
        return None
    result = check_schema(schema, released_dir)
    if result.problems:
        raise UserError("cannot release an incompatible schema: " + "; ".join(result.lines()))
    target = released_dir / schema.subject / f"v{versions[-1][0] + 1 if versions else 1}.avsc"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(schema.schema(), indent=2) + "\n")
    return target


def register_all(
    client: RegistryClient, level_override: str | None = None
) -> list[tuple[str, int, str]]:
    """Check offline, then register every working copy under its subject and level (idempotent).

    Returns (subject, schema id, level) per subject.
    """
    files = schema_files()
    problems = [line for f in files for line in check_schema(f).lines()]
    if problems:
        raise UserError("schemas check failed: " + "; ".join(problems))
    registered = []
    for schema in files:
        level = level_override or compatibility_level(schema.subject)
        client.set_compatibility(schema.subject, level)
        if not client.is_compatible(schema.subject, schema.canonical()):
            raise UserError(
                f"{schema.subject}: the registry finds {schema.path.name} not {level}-compatible "
                "with the registered versions (run `sportsfeat schemas check`)"
            )
        schema_id = client.register(schema.subject, schema.canonical())
        registered.append((schema.subject, schema_id, level))
    return registered
