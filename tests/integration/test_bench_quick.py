"""`sportsfeat bench --quick` on the real stack: every system runs, the peer's and the
project's values agree with the reference, results and plots are written. Timings are
reported, never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from flink_jobs.settings import Settings


def test_bench_quick_computes_the_right_values(stack: Settings, tmp_path: Path) -> None:
    results = tmp_path / "results"  # the committed results stay as they are
    result = subprocess.run(
        [sys.executable, "-m", "flink_jobs.cli", "bench", "--quick"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env={**os.environ, **stack.as_environment(), "SPORTSFEAT_RESULTS_DIR": str(results)},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    document = json.loads((results / "latest-quick.json").read_text())
    systems = {m["system"] for m in document["metrics"]}
    assert {"limit: Kafka consumer perf tool", "peer: Quix Streams, 1 process"} <= systems
    assert "project: full catalogue, parallelism 1" in systems
    assert "agree" in document["notes"]["Correctness cross-check"]
    assert (results / "latest-quick-throughput.png").stat().st_size > 0
