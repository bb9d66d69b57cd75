"""Seeded, reproducible live-sports event streams with controlled faults.

- `events(cfg)`: the ground truth, (topic, key, event) of fan.interactions, live.game-events
  and fan.signals in event-time order, each event once.
- `deliveries(cfg)`: (topic, key, event, fault) in delivery order, with the faults the config
  switches on (none by default); fault is None for a clean delivery.
- `interactions(cfg)`: the fan.interactions event dicts of `deliveries(cfg)`.

Same config and seed, same stream. Events are shared, not copied: treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Iterator

from flink_jobs.generator.config import (
    BYTE_FAULTS,
    GAME_EVENTS,
    INTERACTIONS,
    MALFORMED_KINDS,
    SIGNALS,
    TOPICS,
    VALUE_FAULTS,
    Delivery,
    Event,
    Fault,
    GeneratorConfig,
)
from flink_jobs.generator.fans import EVENT_TYPES, SESSION_GAP_MS
from flink_jobs.generator.faults import UNKNOWN_SCHEMA_ID, corrupt, inject
from flink_jobs.generator.stream import truth

__all__ = [
    "BYTE_FAULTS", "EVENT_TYPES", "GAME_EVENTS", "INTERACTIONS", "MALFORMED_KINDS",
    "SESSION_GAP_MS", "SIGNALS", "TOPICS", "UNKNOWN_SCHEMA_ID", "VALUE_FAULTS", "Delivery",
    "Event", "Fault", "GeneratorConfig", "corrupt", "deliveries", "events", "interactions",
]  # fmt: skip


def events(cfg: GeneratorConfig) -> Iterator[tuple[str, str, Event]]:
    """The ground truth: every event once, in event-time order, whatever the fault knobs say."""
    for topic, key, event, _ in truth(cfg):
        yield topic, key, event


def deliveries(cfg: GeneratorConfig) -> Iterator[Delivery]:
    """Every delivery, faults included, in delivery order."""
    return inject(truth(cfg), cfg) if cfg.faulty else truth(cfg)


def interactions(cfg: GeneratorConfig) -> Iterator[Event]:
    """The fan.interactions events as delivered (byte-level malformed copies left out)."""
    for topic, _key, event, fault in deliveries(cfg):
        if topic == INTERACTIONS and fault not in BYTE_FAULTS:
            yield event
