"""The benchmark's Kafka offset reads ride out a leader that moves."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from benchmarks import kafka_io


class FlakyConsumer:
    """Two partitions; the first `failures` offset reads fail with `code`."""

    def __init__(self, failures: int, code: int) -> None:
        self.failures, self.code, self.reads, self.closed = failures, code, 0, False

    def list_topics(self, topic: str, timeout: float) -> Any:
        return SimpleNamespace(topics={topic: SimpleNamespace(partitions={0: None, 1: None})})

    def get_watermark_offsets(self, tp: Any, timeout: float) -> tuple[int, int]:
        self.reads += 1
        if self.reads <= self.failures:
            raise KafkaException(KafkaError(self.code))
        return 0, 100 + tp.partition

    def close(self) -> None:
        self.closed = True


def consumer(monkeypatch: pytest.MonkeyPatch, failures: int, code: int) -> FlakyConsumer:
    flaky = FlakyConsumer(failures, code)
    monkeypatch.setattr(kafka_io, "_consumer", lambda *_: flaky)
    monkeypatch.setattr(kafka_io, "RETRY_S", 0)
    return flaky


def test_a_leader_moving_is_waited_out(monkeypatch: pytest.MonkeyPatch) -> None:
    flaky = consumer(monkeypatch, 2, KafkaError.NOT_LEADER_FOR_PARTITION)
    assert kafka_io.end_offsets("b", "t") == {0: 100, 1: 101}
    assert flaky.closed


def test_a_leader_that_never_settles_fails_the_read(monkeypatch: pytest.MonkeyPatch) -> None:
    consumer(monkeypatch, 10, KafkaError.NOT_LEADER_FOR_PARTITION)
    with pytest.raises(KafkaException):
        kafka_io.end_offsets("b", "t")


def test_other_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    flaky = consumer(monkeypatch, 1, KafkaError.TOPIC_AUTHORIZATION_FAILED)
    with pytest.raises(KafkaException):
        kafka_io.end_offsets("b", "t")
    assert flaky.reads == 1
