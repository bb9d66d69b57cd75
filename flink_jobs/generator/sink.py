"""Where deliveries go: Kafka (registry-encoded, byte faults applied) or a JSON-lines file.

Both count what they wrote per topic and per fault, and report progress every few seconds.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from flink_jobs.generator.config import BYTE_FAULTS, Delivery
from flink_jobs.generator.faults import corrupt

CHECK_EVERY = 4096  # deliveries between looks at the wall clock


class Encoder(Protocol):
    def encode(self, event: Mapping[str, Any]) -> bytes: ...


class Send(Protocol):
    def __call__(self, topic: str, key: str | bytes, value: bytes) -> None: ...


class Tally:
    """Deliveries per topic and per fault, and the wall-clock rate."""

    def __init__(self, progress: Callable[[str], None] | None = None, every_s: float = 5.0) -> None:
        self.topics: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.started = time.monotonic()
        self._progress = progress
        self._every_s = every_s
        self._next_report = self.started + every_s

    @property
    def total(self) -> int:
        return sum(self.topics.values())

    def rate(self) -> float:
        return self.total / max(time.monotonic() - self.started, 1e-9)

    def check(self) -> None:
        """Report progress if it is time to."""
        now = time.monotonic()
        if self._progress is not None and now >= self._next_report:
            self._next_report = now + self._every_s
            self._progress(f"{self.total} events sent, {self.rate():,.0f} events/s")

    def summary(self) -> str:
        topics = ", ".join(f"{topic} {n}" for topic, n in sorted(self.topics.items()))
        faults = ", ".join(f"{fault} {n}" for fault, n in sorted(self.faults.items()))
        return (
            f"{self.total} events in {time.monotonic() - self.started:.1f} s "
            f"({self.rate():,.0f} events/s): {topics}; faults: {faults or 'none'}"
        )


def to_kafka(
    deliveries: Iterable[Delivery],
    encoders: Mapping[str, Encoder],
    send: Send,
    topic_names: Mapping[str, str] | None = None,
    tally: Tally | None = None,
) -> Tally:
    """Encode each delivery with its topic's encoder and send it (to `topic_names[topic]`)."""
    tally = Tally() if tally is None else tally
    encode = {topic: encoder.encode for topic, encoder in encoders.items()}
    names = {topic: (topic_names or {}).get(topic, topic) for topic in encoders}
    sent: Counter[str] = Counter()
    for count, (topic, key, event, fault) in enumerate(deliveries, 1):
        value = encode[topic](event)
        if fault is not None:
            tally.faults[fault] += 1
            if fault in BYTE_FAULTS:
                value = corrupt(value, fault)
        send(names[topic], key, value)
        sent[topic] += 1
        if count % CHECK_EVERY == 0:
            tally.topics.update(sent)
            sent.clear()
            tally.check()
    tally.topics.update(sent)
    return tally


def to_file(deliveries: Iterable[Delivery], path: Path, tally: Tally | None = None) -> Tally:
    """One JSON object per line: topic, key, event and fault (null when clean).

    Byte-level faults cannot be written as JSON: their line holds the intact event and the
    fault's name, for a replay to break the bytes the same way.
    """
    tally = Tally() if tally is None else tally
    with path.open("w", encoding="utf-8") as out:
        for count, (topic, key, event, fault) in enumerate(deliveries, 1):
            line = {"topic": topic, "key": key, "event": event, "fault": fault}
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
            tally.topics[topic] += 1
            if fault is not None:
                tally.faults[fault] += 1
            if count % CHECK_EVERY == 0:
                tally.check()
    return tally
