"""Backfill in batch mode: feature rows and point-in-time training rows from an event file."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from flink_jobs.backfill import backfill
from flink_jobs.features.catalogue import USER_ACTIVITY, USER_ENGAGEMENT_1H, USER_SESSION
from flink_jobs.features.model import FeatureGroup
from flink_jobs.verify import reference
from tests import timeline

pytestmark = pytest.mark.flink

GROUPS = (USER_ACTIVITY, USER_ENGAGEMENT_1H, USER_SESSION)
MINUTE = 60_000


def _ms(text: str) -> int:
    parsed = datetime.fromisoformat(text.replace(" ", "T") + "+00:00")  # Flink drops :00 parts
    return int(parsed.timestamp() * 1000)


def _read(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for f in sorted(folder.rglob("*")) if f.is_file()
            for line in f.read_text().splitlines() if line]  # fmt: skip


def _expected_training_row(
    group: FeatureGroup, rows: dict[reference.WindowKey, dict[str, Any]], entity: str, at: int
) -> tuple[int | None, dict[str, Any] | None]:
    ttl = int(group.ttl.total_seconds() * 1000)
    valid = [(end, v) for (e, _, end), v in rows.items() if e == entity and at - ttl < end <= at]
    return max(valid, key=lambda item: item[0]) if valid else (None, None)


def test_backfill_rows_and_point_in_time_training_rows(tmp_path: Path) -> None:
    events = timeline.build(seed=5)
    log = timeline.write_json_lines(events, tmp_path / "events.json")
    labels = [
        {"entity": f"u{u:03d}", "at": timeline.iso(timeline.START_MS + k * 37 * MINUTE + u * 911)}
        for u in range(6)
        for k in range(1, 8)
    ]
    (tmp_path / "labels.json").write_text("".join(json.dumps(x) + "\n" for x in labels))

    backfill(GROUPS, log, tmp_path / "out", tmp_path / "labels.json", say=print)

    for group in GROUPS:
        want, _ = reference.compute(group, events, streaming=False)
        rows = _read(tmp_path / "out" / group.topic)
        got = {(r[group.entity], _ms(r["window_start"]), _ms(r["window_end"])) for r in rows}
        assert got == set(want), group.name
        training = _read(tmp_path / "out" / "training" / group.topic)
        assert len(training) == len(labels), f"{group.name}: one row per label"
        for row in training:
            end, values = _expected_training_row(group, want, row["entity"], _ms(row["at"]))
            feature_time = _ms(row["feature_time"]) if row["feature_time"] else None
            assert feature_time == end, f"{group.name} {row['entity']} at {row['at']}"
            for f in group.features:
                want_value = None if values is None else values[f.name]
                got_value = row[f.name]
                if isinstance(want_value, float):
                    assert got_value == pytest.approx(want_value, rel=1e-9)
                else:
                    assert got_value == want_value, f"{group.name} {f.name} {row}"
