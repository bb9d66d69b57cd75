"""`sportsfeat status`: the first minute of an incident on one screen, or as JSON for scripts.

Flink jobs and their last checkpoint, consumer lag per topic (the writer's group and each
job's), freshness per feature group, dead letters in the last interval and the API's
readiness. Every check that fails or cannot be made adds one line to `problems`; the
command exits non-zero when there is any.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from flink_jobs.metrics import DEAD_LETTER_SHARE_MAX, FRESHNESS_SLO_S
from flink_jobs.output import dumps, table
from flink_jobs.status_sources import Partition, Sources, Unavailable

TERMINAL = {"FINISHED", "CANCELED", "FAILED"}
DLQ_PREFIX = "dlq."


@dataclass(frozen=True)
class Limits:
    interval_s: int = 300  # dead letters over this much past
    checkpoint_age_s: int = 120  # checkpoints every 10 s: two minutes without one is stuck
    lag: int = 100_000  # records behind, per topic and consumer group
    freshness_s: float = FRESHNESS_SLO_S
    dead_letter_share: float = DEAD_LETTER_SHARE_MAX


@dataclass
class Report:
    interval_s: int
    jobs: list[dict[str, Any]] = field(default_factory=list)
    lag: list[dict[str, Any]] = field(default_factory=list)
    freshness: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    api: str = "unknown"
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_json(self) -> str:
        return dumps({"healthy": self.healthy, **asdict(self)})


def collect(
    sources: Sources, jobs: Sequence[str], groups: Sequence[str], limits: Limits, now_ms: int
) -> Report:
    """Every check, each on its own: one service down does not hide the others."""
    report = Report(limits.interval_s)
    checks: list[Callable[[], None]] = [
        lambda: _jobs(report, sources, jobs, limits, now_ms),
        lambda: _lag(report, sources, groups, limits),
        lambda: _freshness(report, sources, limits),
        lambda: _dead_letters(report, sources, limits, now_ms),
        lambda: _api(report, sources),
    ]
    for check in checks:
        try:
            check()
        except Unavailable as exc:
            report.problems.append(str(exc))
    return report


def _jobs(
    report: Report, sources: Sources, expected: Sequence[str], limits: Limits, now_ms: int
) -> None:
    newest: dict[str, dict[str, Any]] = {}
    for job in sorted(sources.flink_jobs(), key=lambda j: j.get("start-time", 0)):
        newest[job["name"]] = job  # a name's latest run: earlier ones are history
    for name, job in sorted(newest.items()):
        if job["state"] in TERMINAL and name not in expected:
            continue
        row: dict[str, Any] = {"name": name, "id": job["jid"], "state": job["state"]}
        report.jobs.append(row)
        if job["state"] != "RUNNING":
            continue
        row["uptime_s"] = job.get("duration", 0) // 1000
        stats = sources.checkpoints(job["jid"])
        completed = (stats.get("latest") or {}).get("completed")
        row["failed_checkpoints"] = stats.get("counts", {}).get("failed", 0)
        if completed:
            row["checkpoint"] = {
                "age_s": (now_ms - completed["latest_ack_timestamp"]) // 1000,
                "size_bytes": completed.get("checkpointed_size", completed.get("state_size")),
                "duration_ms": completed.get("end_to_end_duration"),
            }
        age_s = row["checkpoint"]["age_s"] if completed else row["uptime_s"]
        if age_s > limits.checkpoint_age_s:
            report.problems.append(
                f"job {name}: no checkpoint completed for {age_s} s "
                f"(more than {limits.checkpoint_age_s} s): features are not being committed"
            )
    for name in expected:
        state = newest[name]["state"] if name in newest else "not on the cluster"
        if state != "RUNNING":
            report.problems.append(f"job {name} is {state}, not RUNNING")


def _lag(report: Report, sources: Sources, groups: Sequence[str], limits: Limits) -> None:
    for group in groups:
        committed = {tp: offset for tp, offset in sources.committed(group).items() if offset >= 0}
        per_topic: dict[str, int] = defaultdict(int)
        for tp, end in sources.end_offsets(committed).items():
            per_topic[tp[0]] += max(end - committed[tp], 0)
        for topic, lag in sorted(per_topic.items()):
            report.lag.append({"group": group, "topic": topic, "lag": lag})
            if lag > limits.lag:
                report.problems.append(
                    f"consumer group {group} is {lag} records behind on {topic} "
                    f"(more than {limits.lag})"
                )


def _freshness(report: Report, sources: Sources, limits: Limits) -> None:
    for (group, version), seconds in sorted(sources.freshness().items()):
        report.freshness.append({"group": group, "version": int(version), "seconds": seconds})
        if seconds > limits.freshness_s:
            report.problems.append(
                f"features {group} v{version} are {seconds:.0f} s old "
                f"(freshness SLO {limits.freshness_s:.0f} s)"
            )


def _appended(sources: Sources, partitions: Iterable[Partition], since_ms: int) -> int:
    """Records appended to `partitions` since `since_ms`, as an offset span: on a topic
    written in transactions its commit markers count too (an upper bound, cheap to get)."""
    chosen = list(partitions)
    ends = sources.end_offsets(chosen)
    starts = sources.offsets_at(chosen, since_ms)
    return sum(end - (starts[tp] if starts[tp] >= 0 else end) for tp, end in ends.items())


def _dead_letters(report: Report, sources: Sources, limits: Limits, now_ms: int) -> None:
    since_ms = now_ms - limits.interval_s * 1000
    topics = sources.topics()
    for dlq in sorted(t for t in topics if t.startswith(DLQ_PREFIX)):
        source = dlq.removeprefix(DLQ_PREFIX)
        dead = _appended(sources, ((dlq, p) for p in topics[dlq]), since_ms)
        total = _appended(sources, ((source, p) for p in topics.get(source, [])), since_ms)
        share = dead / total if total else float(dead > 0)
        report.dead_letters.append(
            {"topic": dlq, "source": source, "count": dead, "source_count": total, "share": share}
        )
        if share > limits.dead_letter_share:
            report.problems.append(
                f"{dead} of {total} records of {source} dead-lettered to {dlq} in the last "
                f"{limits.interval_s} s ({share:.1%}, more than {limits.dead_letter_share:.0%})"
            )


def _api(report: Report, sources: Sources) -> None:
    report.api = "down"
    sources.api_ready()
    report.api = "ready"


def _size(size: float | None) -> str:
    if size is None:
        return "?"
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _job_detail(job: dict[str, Any]) -> str:
    if "uptime_s" not in job:
        return ""
    detail = f"up {job['uptime_s']} s, {job['failed_checkpoints']} failed checkpoints"
    checkpoint = job.get("checkpoint")
    if checkpoint:
        size, took = _size(checkpoint["size_bytes"]), checkpoint["duration_ms"]
        detail += f"; last checkpoint {checkpoint['age_s']} s ago, {size}, {took} ms"
    return detail


def render(report: Report) -> list[str]:
    """The report for a terminal, each section's columns aligned, problems last."""
    jobs = [[job["name"], job["state"], _job_detail(job)] for job in report.jobs]
    lag = [[row["group"], row["topic"], str(row["lag"])] for row in report.lag]
    fresh = [[r["group"], f"v{r['version']}", f"{r['seconds']:.0f} s"] for r in report.freshness]
    dead = [
        [row["topic"], f"{row['count']} of {row['source_count']} ({row['share']:.2%})"]
        for row in report.dead_letters
    ]
    lines = ["Flink jobs", *table(jobs, "  "), "Consumer lag (records)", *table(lag, "  ")]
    lines += ["Freshness (now minus newest event time in Redis)", *table(fresh, "  ")]
    lines += [f"Dead letters (last {report.interval_s} s)", *table(dead, "  ")]
    lines.append(f"API: {report.api}")
    if report.problems:
        lines.append("UNHEALTHY:")
        lines += [f"  - {problem}" for problem in report.problems]
    else:
        lines.append("healthy")
    return lines
