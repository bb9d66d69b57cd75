"""`sportsfeat drills`: run failure drills against the real stack and report.

A drill run gets topics and a job of its own (a namespace), starts a steady real-time load,
sends the poison-pill sequence (valid, bad, valid, valid for every kind of bad record),
injects each fault in turn and waits for the job to be RUNNING with new checkpoints, then
stops the load, closes the open windows with one last event, and lets the oracle judge the
feature topics, Redis and the dead letters.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from flink_jobs import pipeline
from flink_jobs.drills import oracle
from flink_jobs.drills.faults import DRILLS, Context
from flink_jobs.drills.load import SteadyLoad
from flink_jobs.drills.poison import poison_pills
from flink_jobs.drills.recovery import Recovery, wait_recovered
from flink_jobs.errors import UserError
from flink_jobs.features.model import FeatureGroup, Source, Tumbling
from flink_jobs.job_config import JobConfig
from flink_jobs.producer import GovernedProducer
from flink_jobs.progress import Progress
from flink_jobs.settings import Settings
from flink_jobs.submit import active_job_id, cancel, submit

FLUSH_ENTITY = "zz_flush"
SETTLE_S = 10.0  # of steady processing before each fault


@dataclass(frozen=True)
class DrillResult:
    drill: str
    running_s: float
    checkpoint_s: float
    checkpoints: int


@dataclass(frozen=True)
class Report:
    started: str
    command: str
    rate: float
    drills: list[DrillResult]
    input: oracle.InputCheck
    dead_letters: int
    groups: list[oracle.GroupCheck]

    @property
    def ok(self) -> bool:
        counts_ok = self.input.sequence_gaps == 0 and self.input.sequence_repeats == 0
        return (
            counts_ok
            and self.dead_letters == self.input.bad_records
            and all(g.ok for g in self.groups)
        )

    def markdown(self) -> str:
        lines = [
            f"# Failure drills, {self.started}",
            "",
            f"`{self.command}`: steady load {self.rate:.0f} events/s; verdict "
            f"**{'PASS' if self.ok else 'FAIL'}**.",
            "",
            "| drill | RUNNING after (s) | first new checkpoint after (s) | checkpoints since |",
            "|---|---|---|---|",
            *(
                f"| {d.drill} | {d.running_s:.1f} | {d.checkpoint_s:.1f} | {d.checkpoints} |"
                for d in self.drills
            ),
            "",
            f"Input log: {self.input.events} records, {self.input.bad_records} bad "
            f"(dead letters found: {self.dead_letters}), sequence gaps "
            f"{self.input.sequence_gaps}, repeats {self.input.sequence_repeats}, "
            f"redelivered events {self.input.redeliveries} (counted once by the job).",
            "",
            "| feature group | expected rows | received | lost | duplicated | wrong | Redis off |",
            "|---|---|---|---|---|---|---|",
            *(
                f"| {g.group} | {g.expected} | {g.received} | {g.lost} | {g.duplicates} | "
                f"{g.wrong} | {g.redis_mismatches} |"
                for g in self.groups
            ),
        ]
        lines += [f"- {g.group}: {x}" for g in self.groups for x in g.examples]
        return "\n".join(lines) + "\n"


class OwnEvents:
    """Valid events of users of the drill's own (poison-pill neighbours, the closing event),
    each user's sequence numbers running 1, 2, 3 like the load's."""

    def __init__(self) -> None:
        self._seq: dict[str, int] = {}

    def event(self, user: str, at_ms: int) -> dict[str, object]:
        n = self._seq[user] = self._seq.get(user, 0) + 1
        return {
            "event_id": f"drill-{user}-{n}", "user_id": user, "seq": n,
            "session_id": f"s-{user}", "content_id": f"c-{user}", "content_type": "video",
            "sport": "football", "league": "premier_league", "team_ids": [], "game_id": None,
            "event_type": "view", "watch_time_ms": 0, "position_ms": 0, "device": "web",
            "app_surface": "home", "event_time": at_ms,
        }  # fmt: skip


def _tumbling_ms(group: FeatureGroup) -> int:
    if not isinstance(group.window, Tumbling):
        raise UserError(f"drills judge a tumbling first group, not {group.name}: {group.window}")
    return int(group.window.size.total_seconds() * 1000)


def _closing_time_ms(window_ms: int, source: Source) -> int:
    """An event time past the end of the window holding "now" by more than the source's
    out-of-orderness: its watermark closes every tumbling window the load wrote to, whatever
    the wall clock's phase (well within the source's max_future)."""
    lateness_ms = int(source.max_out_of_orderness.total_seconds() * 1000)
    return (int(time.time() * 1000) // window_ms + 1) * window_ms + lateness_ms + 1000


def _send_poison_pills(producer: GovernedProducer, own: OwnEvents, user: str) -> int:
    """valid, bad, valid, valid for every kind of bad record."""
    now = int(time.time() * 1000)
    template = {**own.event("zz_template", now), "user_id": user}
    pills = poison_pills(producer.encoder.encode, template)
    for value, _ in pills:
        producer.send(own.event(user, now))
        producer.send_encoded(user, value)
        producer.send(own.event(user, now))
        producer.send(own.event(user, now))
    producer.flush()
    return len(pills)


def run_drills(
    settings: Settings, names: list[str], rate: float, command: str, say: Callable[[str], None]
) -> Report:
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%d%H%M%S")
    config = JobConfig(
        bootstrap=settings.kafka_bootstrap, registry_url=settings.registry_url,
        namespace=f"drill_{stamp}", consumer_group=f"drills-{stamp}", job_name=f"drills-{stamp}",
        watermark_emit="on-event", checkpoint_interval_s=5,
    )  # fmt: skip
    pipeline.prepare(settings, config, say, partitions=1)
    group = config.feature_groups()[0]
    window_ms = _tumbling_ms(group)
    submission = submit(settings, config)
    say(f"drills: job {submission.job_id} on topics *{config.namespace}*")
    wait_recovered(settings, config.job_name, time.time(), checkpoints=1)

    def producer() -> GovernedProducer:
        topic = config.source_topic(group.source)
        return GovernedProducer(settings.kafka_bootstrap, settings.registry_url, topic, "user_id")

    load = SteadyLoad(producer, rate, users=200, seed=int(stamp))
    load.start()
    own = OwnEvents()
    results: list[DrillResult] = []
    try:
        pills = _send_poison_pills(producer(), own, "zz_poison")
        say(f"drills: load {rate:.0f} events/s; {pills} poison pills sent among valid events")
        with Progress("drills", len(names), "done", say) as bar:
            ctx = Context(settings, config, bar.say)
            for name in names:
                time.sleep(SETTLE_S)
                bar.say(f"drill {name} ...")
                fault_at = time.time()
                DRILLS[name](ctx)
                recovery: Recovery = wait_recovered(settings, config.job_name, fault_at)
                results.append(
                    DrillResult(
                        name, recovery.running_s, recovery.checkpoint_s, recovery.checkpoints
                    )
                )
                bar.say(f"    RUNNING after {recovery.running_s:.1f} s, first new checkpoint "
                        f"after {recovery.checkpoint_s:.1f} s")  # fmt: skip
                bar.advance()
    finally:
        load.stop()
    closer = producer()  # a fresh producer: the last event must not wait on an old one
    closer.send(own.event(FLUSH_ENTITY, _closing_time_ms(window_ms, group.source)))
    closer.flush()
    say(f"drills: load stopped after {load.sent} events ({load.resent} sent again after "
        "unconfirmed sends); letting the last windows close")  # fmt: skip
    wait_recovered(settings, config.job_name, time.time(), checkpoints=3)
    events = oracle.read_input(settings, config, group)
    checks = [
        oracle.check_group(settings, config, g, events, FLUSH_ENTITY)
        for g in config.feature_groups()
    ]
    report = Report(
        started=started.isoformat(timespec="seconds"),
        command=command,
        rate=rate,
        drills=results,
        input=oracle.check_input(events, group),
        dead_letters=oracle.dead_letters(settings, config.dlq_topic(group.source)),
        groups=checks,
    )
    job_id = active_job_id(settings, config.job_name)
    if job_id is not None:
        cancel(settings, job_id)
    return report


def write_report(report: Report, name: str, results: Path) -> Path:
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{name}.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    path = results / f"{name}.md"
    path.write_text(report.markdown())
    return path
