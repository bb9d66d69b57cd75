"""kafka_poll.ready: waits for the first record only, then takes what was fetched."""

from __future__ import annotations

from typing import Any, cast

from confluent_kafka import Consumer

from flink_jobs.kafka_poll import ready


class Fetched:
    """A consumer whose fetch queue holds `queued`; records how it was asked."""

    def __init__(self, queued: list[str]) -> None:
        self.queued = queued
        self.calls: list[tuple[str, float, int]] = []

    def poll(self, timeout: float) -> str | None:
        self.calls.append(("poll", timeout, 1))
        return self.queued.pop(0) if self.queued else None

    def consume(self, num_messages: int, timeout: float) -> list[str]:
        self.calls.append(("consume", timeout, num_messages))
        taken, self.queued = self.queued[:num_messages], self.queued[num_messages:]
        return taken


def _ready(consumer: Fetched, max_messages: int, timeout_s: float) -> list[Any]:
    return ready(cast(Consumer, consumer), max_messages, timeout_s)


def test_the_first_record_is_waited_for_the_rest_only_taken() -> None:
    consumer = Fetched(["a", "b", "c"])
    assert _ready(consumer, 1000, 0.5) == ["a", "b", "c"]
    assert consumer.calls == [("poll", 0.5, 1), ("consume", 0, 999)]


def test_at_most_max_messages_and_nothing_after_the_timeout() -> None:
    consumer = Fetched(["a", "b", "c"])
    assert _ready(consumer, 2, 0.5) == ["a", "b"]
    assert _ready(consumer, 2, 0.5) == ["c"]
    assert _ready(consumer, 2, 0.5) == []
    assert consumer.calls[-1] == ("poll", 0.5, 1)  # no consume once the poll timed out
