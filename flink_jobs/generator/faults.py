"""Delivery faults on top of the ground truth: disorder, late events, duplicates, malformed records.

Every delivery says what it is (its fourth item), so an oracle knows what to expect. The
ground truth does not change when faults are switched on: faults draw from their own RNG.

- out of order: delayed by an exponential delay (mean, capped at the max); delivered before
  any event more than that delay younger, so disorder never exceeds `max_disorder_ms`.
- late: delayed beyond `late_bound_ms` and delivered after an event that much younger.
- duplicate: the same event object again (same event_id and seq), shortly after the original.
- malformed: an extra broken copy of a fan.interactions event, right after the original;
  byte-level kinds keep the original event here and are broken by `corrupt` when encoded.

A finite stream ends by flushing what is still delayed, in due order: a LATE delivery near
the end may have no younger event left to be late against.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

from flink_jobs.generator.config import (
    BYTE_FAULTS,
    INTERACTIONS,
    Delivery,
    Event,
    Fault,
    GeneratorConfig,
)
from flink_jobs.generator.world import seeded

UNKNOWN_SCHEMA_ID = 2**31 - 1  # never handed out by a registry that counts from 1
FUTURE_SKEW_MS = 366 * 24 * 3_600_000
UNKNOWN_EVENT_TYPE = "rewind"


def inject(truth: Iterable[Delivery], cfg: GeneratorConfig) -> Iterator[Delivery]:
    """Deliveries of `truth` with the faults `cfg` asks for, in delivery order."""
    rng = seeded(f"{cfg.seed}-faults")
    random = rng.random
    delayed_below = cfg.out_of_order_share
    late_below = delayed_below + cfg.late_share
    early: list[tuple[int, int, Delivery]] = []  # due before the first event after `due`
    late: list[tuple[int, int, Delivery]] = []  # due after the first event at or after `due`
    order = 0
    for topic, key, event, _ in truth:
        now = event["event_time"]
        while early and early[0][0] < now:
            yield heapq.heappop(early)[2]
        u = random()
        if u < delayed_below:
            delay = min(int(rng.expovariate(1 / cfg.mean_disorder_ms)) + 1, cfg.max_disorder_ms)
            heap, due, fault = early, now + delay, Fault.OUT_OF_ORDER
        elif u < late_below:
            delay = cfg.late_bound_ms + 1 + int(random() * cfg.late_max_extra_ms)
            heap, due, fault = late, now + delay, Fault.LATE
        else:
            heap, due, fault = early, now, None
        # The original, then its malformed copy, then its duplicate: in that order.
        extra = [(due, (topic, key, event, fault))]
        if cfg.malformed_share and topic == INTERACTIONS and random() < cfg.malformed_share:
            kind = cfg.malformed_kinds[int(random() * len(cfg.malformed_kinds))]
            extra.append((due, (topic, key, malformed(event, kind), kind)))
        if cfg.duplicate_share and random() < cfg.duplicate_share:
            again = due + 1 + int(random() * cfg.duplicate_max_delay_ms)
            extra.append((again, (topic, key, event, Fault.DUPLICATE)))
        for at, delivery in extra:
            if at == now:
                yield delivery
            else:
                order += 1
                heapq.heappush(heap, (at, order, delivery))
        while late and late[0][0] <= now:
            yield heapq.heappop(late)[2]
    for _, _, delivery in sorted(early + late):
        yield delivery


def malformed(event: Event, kind: Fault) -> Event:
    """A copy of `event` with the forbidden value of a value-level `kind`; byte kinds: as is."""
    if kind in BYTE_FAULTS:
        return event
    broken = dict(event)
    if kind is Fault.NEGATIVE_WATCH_TIME:
        broken["watch_time_ms"] = -max(1, event["watch_time_ms"])
    elif kind is Fault.EMPTY_USER_ID:
        broken["user_id"] = ""
    elif kind is Fault.UNKNOWN_EVENT_TYPE:
        broken["event_type"] = UNKNOWN_EVENT_TYPE
    elif kind is Fault.FUTURE_EVENT_TIME:
        broken["event_time"] = event["event_time"] + FUTURE_SKEW_MS
    else:
        raise ValueError(f"{kind} is not a malformed-record kind")
    return broken


def corrupt(value: bytes, kind: Fault) -> bytes:
    """Break Confluent-framed bytes the way a byte-level `kind` says; others: unchanged."""
    if kind is Fault.WRONG_MAGIC_BYTE:
        return b"\x01" + value[1:]
    if kind is Fault.UNKNOWN_SCHEMA_ID:
        return value[:1] + UNKNOWN_SCHEMA_ID.to_bytes(4, "big") + value[5:]
    if kind is Fault.TRUNCATED_PAYLOAD:
        return value[: 5 + (len(value) - 5) // 2]
    return value
