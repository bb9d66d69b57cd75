"""The sustained-rate search on the real stack, two short steps: the method runs end to end
(job, open-loop replayer, lag, freshness, CPU, report and curve). Which verdict a step gets
depends on the machine: it is reported, never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from flink_jobs.settings import Settings

STEPS = ["--low", "500", "--high", "1000", "--max-steps", "2", "--step-s", "40",
         "--warmup-s", "10"]  # fmt: skip


def test_two_short_steps_measure_lag_freshness_and_cpu(stack: Settings, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.sustained", "--groups", "user_activity", *STEPS],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **stack.as_environment(), "SPORTSFEAT_RESULTS_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    document = json.loads((tmp_path / "sustained-user_activity.json").read_text())
    steps: dict[str, set[str]] = {}
    for metric in document["metrics"]:
        steps.setdefault(metric["system"], set()).add(metric["metric"])
    measured = {s: m for s, m in steps.items() if s.startswith("step at ")}
    assert measured, result.stdout
    for figures in measured.values():
        assert {"lag slope", "window close -> Redis p99", "CPU (TaskManager)",
                "CPU (replayer)", "replay lateness p99"} <= figures  # fmt: skip
    assert "Curve" in document["notes"]
    assert (tmp_path / "sustained-user_activity-curve.png").stat().st_size > 0
