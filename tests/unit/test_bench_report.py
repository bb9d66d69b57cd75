"""Report writing: one object per system and metric with the run's context, a table, notes;
the summary's figures, ratios and targets from made-up measurements."""

import json
from pathlib import Path

from benchmarks.drain import Measurement
from benchmarks.flink_rest import Checkpoint
from benchmarks.report import Metric, write
from benchmarks.summary import (
    KAFKA_LIMIT,
    Results,
    flink_limit,
    metrics,
    peer,
    project,
    targets,
)
from benchmarks.systems import PerfResult


def _drain(system: str, rate: float) -> Measurement:
    return Measurement(system, rate, int(rate * 60), 60.0, True, {"TaskManager": 20.0},
                       {"TaskManager": 900.0}, "probe")  # fmt: skip


def test_write_gives_json_and_markdown(tmp_path: Path) -> None:
    found = [Metric.of("peer", "sustained throughput", "events/s", [10.0, 30.0, 20.0])]
    md = write("latest", found, {"How": "drained a backlog"}, results=tmp_path)
    document = json.loads((tmp_path / "latest.json").read_text())
    assert {"commit", "date", "cores", "memory_gib", "command"} <= document.keys()
    assert document["metrics"] == [
        {"system": "peer", "metric": "sustained throughput", "unit": "events/s",
         "median": 20.0, "min": 10.0, "max": 30.0, "runs": 3}
    ]  # fmt: skip
    assert document["notes"] == {"How": "drained a backlog"}
    text = md.read_text()
    assert "| peer | sustained throughput | 20.00 | 10.00 | 30.00 | events/s | 3 |" in text
    assert "## How\n\ndrained a backlog" in text


def test_summary_medians_ratios_and_targets() -> None:
    full = project("full catalogue", 1)
    results = Results(
        drains={
            flink_limit(1): [_drain(flink_limit(1), r) for r in (100_000, 120_000)],
            full: [_drain(full, r) for r in (40_000, 48_000)],
            peer(1): [_drain(peer(1), r) for r in (10_000, 20_000)],
        },
        perf=[PerfResult(500_000, 1_000_000, 2.0, 400_000)],
        checkpoints={full: [[Checkpoint(1, 100, 2**20, 2**19), Checkpoint(2, 300, 2**21, 2**19)]]},
        freshness={full: [([100.0, 200.0, 900.0], [150.0, 1500.0])]},
    )
    found = metrics(results, (1,))
    by_key = {(m.system, m.metric): m for m in found}
    assert by_key[(full, "sustained throughput")].median == 44_000
    assert by_key[(full, "CPU per million events (TaskManager)")].median == 20.0
    assert by_key[(KAFKA_LIMIT, "CPU per million events (consumer)")].median == 2.0
    assert by_key[(full, "checkpoint duration (median per run)")].median == 200
    assert by_key[(full, "checkpoint state size (largest per run)")].median == 2.0
    assert by_key[(full, "window close -> Redis max")].median == 1500
    ratio = by_key[(f"{full} / {peer(1)}", "throughput ratio")]
    assert (ratio.min, ratio.max, ratio.runs) == (2.4, 4.0, 2)
    assert by_key[(f"{full} / {flink_limit(1)}", "throughput ratio")].median == 0.4
    lines = "\n".join(targets(found, (1,)))
    assert "full catalogue / peer, parallelism 1: 3.20x (target >= 3x): met" in lines
    assert "read limit, parallelism 1: 0.40x (target >= 0.5x): missed by 20%" in lines
    assert "window close -> Redis: 1,500.00 ms (target < 1,000 ms): missed by 50%" in lines
    assert "serving p99, single entity at 1,000 req/s: not measured" in lines
