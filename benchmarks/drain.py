"""One drain: a system started on the prepared backlog, sampled twice a second until its
consumer offsets reach the end of the topic (or the run's time cap), then stopped.

Throughput is events / time between the first sample that shows progress and the first
at the end, so start-up (job submission, deployment, first fetch) is excluded. CPU is
charged over the same interval; memory is the peak over the whole run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.procstat import Usage
from benchmarks.stats import drain
from benchmarks.systems import System
from flink_jobs.errors import UserError

POLL_S = 0.5
PROGRESS_EVERY_S = 10.0
ALONGSIDE_MAX_S = 120.0


@dataclass(frozen=True)
class Measurement:
    system: str
    rate: float  # events/s
    events: int
    seconds: float
    reached_end: bool
    cpu_s_per_million: dict[str, float]  # per role
    peak_rss_mib: dict[str, float]
    probe: str


def measure(
    system: System,
    total: int,
    cap_s: float,
    first_progress_s: float,
    say: Callable[[str], None],
    alongside: Callable[[], None] | None = None,
) -> Measurement:
    """Run `system` over a backlog of `total` events, and `alongside` (e.g. a profiler) in a
    thread from its start until it returns, before the system stops. UserError if it reads
    nothing within `first_progress_s` of starting, or fails."""
    started = time.monotonic()
    beside = threading.Thread(target=alongside or (lambda: None), daemon=True)
    try:
        system.start()
        beside.start()
        say(f"  {system.name}: started in {time.monotonic() - started:.1f} s")
        usage = Usage(system.roles())
        samples: list[tuple[float, int]] = []
        cpu: list[dict[str, float]] = []
        first: float | None = None
        next_line = time.monotonic() + PROGRESS_EVERY_S
        while True:
            now = time.monotonic()
            offsets = system.consumed()
            done = sum(offsets.values()) if offsets else 0
            samples.append((now, done))
            cpu.append(usage.sample())
            if done and first is None:
                first = now
            if first is None and now - started > first_progress_s:
                raise UserError(f"{system.name} read nothing in {first_progress_s:.0f} s")
            if now >= next_line:
                next_line = now + PROGRESS_EVERY_S
                say(f"  {system.name}: {done:,} of {total:,} events read")
            if done >= total or (first is not None and now - first >= cap_s):
                break
            time.sleep(POLL_S)
    finally:
        if beside.is_alive():
            beside.join(ALONGSIDE_MAX_S)
        system.stop()
    result = drain(samples, total)
    if result is None:
        if samples and samples[0][1] >= total:
            raise UserError(f"{system.name}: the backlog was gone by the first sample (too small)")
        raise UserError(f"{system.name}: too little progress to measure")
    times = [t for t, _ in samples]
    begin, end = cpu[times.index(result.start)], cpu[times.index(result.end)]
    millions = result.events / 1e6
    return Measurement(
        system=system.name,
        rate=result.rate,
        events=result.events,
        seconds=result.seconds,
        reached_end=result.reached_target,
        cpu_s_per_million={r: (end[r] - begin[r]) / millions for r in end},
        peak_rss_mib={r: kib / 1024 for r, kib in usage.peak_rss_kib.items()},
        probe=getattr(system, "probe", ""),
    )
