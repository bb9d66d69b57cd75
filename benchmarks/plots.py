"""PNG plots of a run: sustained throughput per system (median, min-max bars) and the
freshness distributions (window close -> visible, all samples of all runs)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

from benchmarks.summary import KAFKA_LIMIT, Results


def write(results: Results, folder: Path, name: str) -> list[Path]:
    """<name>-throughput.png and <name>-freshness.png, for what was measured."""
    written = []
    systems = [s for s in [KAFKA_LIMIT, *results.drains] if results.rates(s)]
    if systems:
        written.append(_throughput(results, systems, folder / f"{name}-throughput.png"))
    if any(k or r for reps in results.freshness.values() for k, r in reps):
        written.append(_freshness(results, folder / f"{name}-freshness.png"))
    return written


def _throughput(results: Results, systems: list[str], path: Path) -> Path:
    rates = [sorted(results.rates(s)) for s in systems]
    medians = [r[len(r) // 2] for r in rates]
    errors = [
        [m - r[0] for m, r in zip(medians, rates, strict=True)],
        [r[-1] - m for m, r in zip(medians, rates, strict=True)],
    ]
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(systems) + 1.5))
    ax.barh(systems, medians, xerr=errors, color="tab:blue", capsize=3)
    ax.invert_yaxis()
    ax.set_xlabel("events/s (median, min-max over runs)")
    ax.set_title("Sustained throughput, draining the same backlog")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _freshness(results: Results, path: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, where, index in ((axes[0], "Kafka", 0), (axes[1], "Redis", 1)):
        for system, reps in results.freshness.items():
            values = sorted(v for rep in reps for v in rep[index])
            if values:
                share = [(i + 1) / len(values) for i in range(len(values))]
                ax.step(values, share, where="post", label=system)
        ax.set_title(f"window close -> visible in {where}")
        ax.set_xlabel("ms")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of feature rows")
    axes[0].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
