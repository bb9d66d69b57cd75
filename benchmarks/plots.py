"""PNG plots of a run: sustained throughput per system (median, min-max bars) and the
freshness distributions (window close -> visible, all samples of all runs); the
sustained-throughput curve of benchmarks.sustained (`sustained`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from benchmarks.summary import KAFKA_LIMIT, Results
from benchmarks.sustain import Search, Step, Tolerance


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


def sustained(found: Search, path: Path, bound_ms: float | None = None) -> Path:
    """The sustained-throughput curve: by offered rate (log scale), freshness p50 and p99
    above, the lag slope and its tolerance below; open markers: steps not sustained."""
    steps = found.curve
    rates = [s.result.rate for s in steps]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    for name, pick, colour in (
        ("freshness p50", lambda s: s.result.freshness_p50_ms, "tab:blue"),
        ("freshness p99", lambda s: s.result.freshness_p99_ms, "tab:red"),
    ):
        _curve(top, steps, pick, name, colour)
    if bound_ms is not None:
        top.axhline(bound_ms, color="grey", linestyle=":", label=f"bound {bound_ms:,.0f} ms")
    top.set_ylabel("window close -> Redis, ms")
    _curve(bottom, steps, lambda s: s.result.lag_slope, "lag slope", "tab:green")
    tolerance = Tolerance()
    bottom.plot(rates, [tolerance.allowed(r) for r in rates], color="grey", linestyle=":",
                label="tolerance")  # fmt: skip
    bottom.set_ylabel("lag slope, records/s")
    bottom.set_xlabel("offered rate, events/s")
    bottom.set_xscale("log")
    thousands = FuncFormatter(lambda value, _: f"{value:,.0f}")
    bottom.xaxis.set_major_formatter(thousands)
    bottom.xaxis.set_minor_formatter(thousands)
    for ax in (top, bottom):
        if found.sustainable is not None:
            ax.axvline(found.sustainable, color="black", linestyle="--", linewidth=1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    top.set_title(
        "Sustainable throughput: "
        + ("none" if found.sustainable is None else f"{found.sustainable:,.0f} events/s")
        + " (open markers: not sustained)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _curve(
    ax: Axes, steps: list[Step], pick: Callable[[Step], float | None], name: str, colour: str
) -> None:
    points = [(s.result.rate, v, s.verdict.sustained) for s in steps if (v := pick(s)) is not None]
    if not points:
        return
    ax.plot([r for r, _, _ in points], [v for _, v, _ in points], color=colour, label=name)
    for held, face in ((True, colour), (False, "none")):
        chosen = [(r, v) for r, v, ok in points if ok is held]
        if chosen:
            ax.scatter([r for r, _ in chosen], [v for _, v in chosen], color=colour,
                       facecolors=face, zorder=3)  # fmt: skip
