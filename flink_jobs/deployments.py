"""What runs where: one record per job started from a compiled plan, and the upgrade log.

`<state dir>/deployments/<job>.json` is the version a job of that name runs (config, plan,
manifest): what an upgrade compares with and what it rolls back to.
`<state dir>/upgrades.jsonl` gets one line per upgrade attempt: time, from, to, savepoint,
outcome (upgraded, rolled back, refused, failed) and detail.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flink_jobs.errors import UserError
from flink_jobs.job_config import JobConfig
from flink_jobs.manifest import Manifest
from flink_jobs.settings import Settings

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Version:
    """A version of the feature job: its config, its compiled plan and what it computes."""

    config: list[str]  # JobConfig.argv()
    selection: str  # the groups asked for, as --groups takes them ("": the whole catalogue)
    plan: str
    fingerprint: str
    manifest: Manifest

    def job_config(self) -> JobConfig:
        return JobConfig.parse(self.config)

    def summary(self) -> dict[str, Any]:
        """As the upgrade log names a version."""
        return {
            "fingerprint": self.fingerprint,
            "plan": self.plan,
            "groups": list(self.manifest["groups"]),
            "config": self.config,
        }


@dataclass(frozen=True)
class Deployment:
    job_name: str
    job_id: str
    version: Version
    started_at: str
    savepoint: str | None = None  # the savepoint it started from

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        return cls(**{**data, "version": Version(**data["version"])})


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _path(settings: Settings, job_name: str) -> Path:
    if not SAFE_NAME.match(job_name):
        raise UserError(f"job name {job_name!r}: use letters, digits, '.', '_' and '-'")
    return settings.state_dir / "deployments" / f"{job_name}.json"


def load(settings: Settings, job_name: str) -> Deployment | None:
    path = _path(settings, job_name)
    return Deployment.from_json(json.loads(path.read_text())) if path.exists() else None


def save(settings: Settings, deployment: Deployment) -> None:
    path = _path(settings, deployment.job_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(asdict(deployment), indent=2) + "\n")
    partial.replace(path)


def every(settings: Settings) -> list[Deployment]:
    folder = settings.state_dir / "deployments"
    return [Deployment.from_json(json.loads(p.read_text())) for p in sorted(folder.glob("*.json"))]


def _log_path(settings: Settings) -> Path:
    return settings.state_dir / "upgrades.jsonl"


def log_upgrade(
    settings: Settings, running: Deployment, target: Version, new_job_id: str | None,
    savepoint: str | None, outcome: str, detail: str = "",
) -> None:  # fmt: skip
    entry = {
        "time": now(),
        "job": running.job_name,
        "from": {"job_id": running.job_id, **running.version.summary()},
        "to": {"job_id": new_job_id, **target.summary()},
        "savepoint": savepoint,
        "outcome": outcome,
        "detail": detail,
    }
    path = _log_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as log:
        log.write(json.dumps(entry) + "\n")


def upgrade_log(settings: Settings) -> list[dict[str, Any]]:
    path = _log_path(settings)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
