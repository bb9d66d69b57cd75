"""A registry outage stalls the writer; it never rejects (and so never loses) a record."""

from __future__ import annotations

import time

import pytest

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
