"""Benchmark results: medians with min and max, the run's context, JSON and Markdown files."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Metric:
    system: str
    metric: str
    unit: str
    median: float
    min: float
    max: float
    runs: int

    @classmethod
    def of(cls, system: str, metric: str, unit: str, values: list[float]) -> Metric:
        return cls(system, metric, unit, statistics.median(values), min(values), max(values),
                   len(values))  # fmt: skip


def context() -> dict[str, object]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "commit": commit,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 2**20, 1),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def write(
    name: str,
    metrics: list[Metric],
    notes: dict[str, str] | None = None,
    results: Path = RESULTS,
) -> Path:
    """<results>/<name>.json and .md; returns the Markdown path. `notes` (heading -> text)
    go into both, after the table: how the figures were obtained, what went wrong."""
    results.mkdir(parents=True, exist_ok=True)
    ctx = context()
    document = {**ctx, "metrics": [asdict(m) for m in metrics], "notes": notes or {}}
    (results / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n")
    lines = [
        f"# {name}",
        "",
        f"commit {ctx['commit']}, {ctx['date']}, {ctx['cores']} cores, {ctx['memory_gib']} GiB; "
        f"`{ctx['command']}`",
        "",
        "| system | metric | median | min | max | unit | runs |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {m.system} | {m.metric} | {m.median:,.2f} | {m.min:,.2f} | {m.max:,.2f} | "
            f"{m.unit} | {m.runs} |"
            for m in metrics
        ),
    ]
    for heading, text in (notes or {}).items():
        lines += ["", f"## {heading}", "", text]
    path = results / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path
