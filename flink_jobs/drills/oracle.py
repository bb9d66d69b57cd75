"""The exactly-once oracle: the input log read back from Kafka, recomputed offline by the
plain-Python reference, and compared with the feature topics read with read_committed.

- input: per user, the generator's sequence numbers must run 1..n without gaps or repeats
  (what the producer delivered is what the job had to process);
- output: every window the final watermark closed appears exactly once (a missing one is a
  lost update, a second copy a duplicate), with the reference's values; a lifetime group's
  last update per entity equals the reference's final state;
- dead letters: one per bad record in the input log;
- Redis: each sampled entity's stored row is its newest window.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import redis

from flink_jobs.avro_decoder import ConfluentAvroDecoder, DecodeError
from flink_jobs.features.model import FeatureGroup, Lifetime
from flink_jobs.job_config import JobConfig
from flink_jobs.online_store import FeatureGroupRef, OnlineStore
from flink_jobs.registry import RegistryClient
from flink_jobs.settings import Settings
from flink_jobs.topic_tail import as_ms, read_all
from flink_jobs.verify import reference
from flink_jobs.verify.compare import Rows, compare

REDIS_SAMPLE = 20


@dataclass(frozen=True)
class InputCheck:
    events: int
    bad_records: int  # undecodable or invalid: each must be a dead letter
    sequence_gaps: int  # a user's sequence numbers skip one: an event never delivered
    sequence_repeats: int  # one sequence number on two different events: a corrupt log
    redeliveries: int  # the same event twice (the job counts it once)


@dataclass(frozen=True)
class GroupCheck:
    group: str
    expected: int
    received: int
    lost: int
    duplicates: int
    wrong: int
    redis_mismatches: int
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicates or self.wrong or self.redis_mismatches)


def _events(settings: Settings, topic: str) -> list[dict[str, Any]]:
    """The input log in offset order, each event with its Kafka timestamp (`_kafka_ts`);
    undecodable records kept as {"_error": reason}."""
    decoder = ConfluentAvroDecoder(RegistryClient(settings.registry_url))
    events: list[dict[str, Any]] = []
    for record in read_all(settings.kafka_bootstrap, topic):
        try:
            event = decoder.decode(record.value)
        except DecodeError as exc:
            events.append({"_error": exc.reason, "event_id": None})
            continue
        time_ms = as_ms(event["event_time"])
        events.append({**event, "event_time": time_ms, "_kafka_ts": record.timestamp_ms})
    return events


def check_input(events: list[dict[str, Any]], group: FeatureGroup) -> InputCheck:
    valid = [e for e in events if reference.reason(group.source, e) is None]
    unique = {e["event_id"]: e for e in valid}
    per_user: dict[str, list[int]] = {}
    for event in unique.values():
        per_user.setdefault(event["user_id"], []).append(event["seq"])
    gaps = sum(max(seqs) - len(set(seqs)) for seqs in per_user.values())
    repeats = sum(len(seqs) - len(set(seqs)) for seqs in per_user.values())
    redeliveries = len(valid) - len(unique)
    return InputCheck(len(events), len(events) - len(valid), gaps, repeats, redeliveries)


def _received(settings: Settings, topic: str, group: FeatureGroup) -> tuple[Rows, int]:
    """The group's rows from its feature topic, and how many arrived more than once."""
    decoder = ConfluentAvroDecoder(RegistryClient(settings.registry_url))
    names = [f.name for f in group.features]
    rows: Rows = {}
    copies: Counter[tuple[str, int, int]] = Counter()
    for entity, value, _ in read_all(settings.kafka_bootstrap, topic):
        record = decoder.decode(value)
        key = (entity, as_ms(record["window_start"]), as_ms(record["window_end"]))
        if isinstance(group.window, Lifetime):  # an update stream: the last one counts
            rows = {k: v for k, v in rows.items() if k[0] != entity}
        copies[key] += 1
        rows[key] = {n: record[n] for n in names}
    return rows, sum(n - 1 for n in copies.values())


def _redis_mismatches(settings: Settings, ref: FeatureGroupRef, want: Rows) -> list[str]:
    store = OnlineStore(redis.Redis.from_url(settings.redis_url), ttl_ms=0)
    newest: dict[str, int] = {}
    for entity, _, end in want:
        newest[entity] = max(end, newest.get(entity, end))
    problems = []
    for entity, end in sorted(newest.items())[:REDIS_SAMPLE]:
        stored = store.read(ref, entity)
        held = int(stored["_event_time_ms"]) if stored else None
        if held != end:
            problems.append(f"redis {ref.key(entity)}: event time {held}, want {end}")
    return problems


def check_group(
    settings: Settings, config: JobConfig, group: FeatureGroup, events: list[dict[str, Any]],
    ignore_entity: str,
) -> GroupCheck:  # fmt: skip
    want, _ = reference.compute(group, events)
    want = {k: v for k, v in want.items() if not k[0].startswith(ignore_entity)}
    got, duplicates = _received(settings, config.feature_topic(group), group)
    got = {k: v for k, v in got.items() if not k[0].startswith(ignore_entity)}
    problems = compare(group, got, want)
    lost = sum(p.startswith("missing ") for p in problems)
    ref = FeatureGroupRef.from_topic(config.feature_topic(group))
    redis_problems = _redis_mismatches(settings, ref, want)
    return GroupCheck(
        group=group.name,
        expected=len(want),
        received=len(got),
        lost=lost,
        duplicates=duplicates,
        wrong=len(problems) - lost,
        redis_mismatches=len(redis_problems),
        examples=(problems + redis_problems)[:5],
    )


def dead_letters(settings: Settings, topic: str) -> int:
    return len(read_all(settings.kafka_bootstrap, topic))


def read_input(settings: Settings, config: JobConfig, group: FeatureGroup) -> list[dict[str, Any]]:
    return _events(settings, config.source_topic(group.source))
