"""Released feature-group versions are frozen: their definitions are kept in git and a
changed definition under a released version fails the check (models in production read
that version; a change must ship as a new version, computed beside the old one)."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from flink_jobs.features.model import FeatureGroup

RELEASED_DIR = Path(__file__).parent / "released"


def as_data(value: Any) -> Any:
    """A definition's semantics as plain JSON data: spans in seconds, enums by value, windows
    by kind; docs left out (rewording a doc changes no value)."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [as_data(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        data = {f.name: as_data(getattr(value, f.name)) for f in fields(value) if f.name != "doc"}
        return {"kind": type(value).__name__, **data}
    return value


def snapshot_path(group: FeatureGroup, released_dir: Path = RELEASED_DIR) -> Path:
    return released_dir / f"{group.name}.v{group.version}.json"


def changes(group: FeatureGroup, released_dir: Path = RELEASED_DIR) -> list[str]:
    """How a released version's definition differs from its snapshot (empty: unchanged or
    not released)."""
    path = snapshot_path(group, released_dir)
    if not path.exists():
        return []
    return differences(json.loads(path.read_text()), as_data(group))


def differences(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """How definition `now` differs from `before`, both as_data (empty: the same)."""
    keys = [*now, *(key for key in before if key not in now)]
    return [
        _describe(key, before.get(key), now.get(key))
        for key in keys
        if before.get(key) != now.get(key)
    ]


def _describe(key: str, before: Any, now: Any) -> str:
    if key == "features" and isinstance(before, list) and isinstance(now, list):
        old = {f["name"]: f for f in before}
        new = {f["name"]: f for f in now}
        parts = [f"feature {n} added" for n in new.keys() - old.keys()]
        parts += [f"feature {n} removed" for n in old.keys() - new.keys()]
        parts += [f"feature {n} changed" for n in new.keys() & old.keys() if old[n] != new[n]]
        return ", ".join(sorted(parts)) or "features reordered"
    return f"{key} changed from {json.dumps(before)} to {json.dumps(now)}"


def check(groups: tuple[FeatureGroup, ...], released_dir: Path = RELEASED_DIR) -> list[str]:
    return [
        f"{g.name} v{g.version} is released and must not change ({change}): "
        f"define {g.name} v{g.version + 1} instead"
        for g in groups
        for change in changes(g, released_dir)
    ]


def release(group: FeatureGroup, released_dir: Path = RELEASED_DIR) -> Path | None:
    """Snapshot an unreleased version; None if it is released already (unchanged)."""
    path = snapshot_path(group, released_dir)
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(as_data(group), indent=2) + "\n")
    return path
