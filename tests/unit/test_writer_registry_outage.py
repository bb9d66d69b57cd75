"""A registry outage stalls the writer; it never rejects (and so never loses) a record; a
failed offset commit does not stop it."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from confluent_kafka import KafkaError, KafkaException

from flink_jobs.avro_decoder import DecodeError
from flink_jobs.registry import RegistryUnavailable
from flink_jobs.writer import Writer


def test_the_writer_waits_out_a_registry_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    writer = Writer("127.0.0.1:1", "http://127.0.0.1:1", "redis://127.0.0.1:1")
    answers: list[object] = [RegistryUnavailable("down"), RegistryUnavailable("down"), {"v": 1}]
    waits: list[float] = []

    def decode(value: bytes | None) -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(writer._decoder, "decode", decode)
    monkeypatch.setattr(time, "sleep", waits.append)
    assert writer._decode(b"\x00") == {"v": 1}
    assert waits == [0.5, 1.0]  # backing off, not rejecting
    assert writer.rejected == 0

    writer.stop()
    answers[:] = [RegistryUnavailable("down")]
    with pytest.raises(RegistryUnavailable):  # stopping: leave without committing
        writer._decode(b"\x00")
    monkeypatch.setattr(writer._decoder, "decode", lambda v: (_ for _ in ()).throw(
        DecodeError("truncated", "short")))  # fmt: skip
    with pytest.raises(DecodeError):  # a bad record is not retried
        writer._decode(b"\x00")


def test_a_failed_offset_commit_does_not_stop_the_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    writer = Writer("127.0.0.1:1", "http://127.0.0.1:1", "redis://127.0.0.1:1")

    def commit(asynchronous: bool) -> None:  # a feature topic deleted since the poll
        raise KafkaException(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART))

    monkeypatch.setattr(writer, "_consumer", SimpleNamespace(commit=commit))
    writer._commit()  # logged and counted, not raised
    assert writer.metrics.registry.get_sample_value("sportsfeat_writer_commit_errors_total") == 1
