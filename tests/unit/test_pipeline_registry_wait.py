"""`sportsfeat run` with the registry down: it says so, retries with backoff, then goes on."""

from __future__ import annotations

import time

import pytest

from flink_jobs import pipeline
from flink_jobs.registry import RegistryUnavailable


def test_run_waits_for_the_registry_with_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    answers: list[object] = [RegistryUnavailable("registry down"), RegistryUnavailable("still"), 7]
    waits: list[float] = []
    said: list[str] = []

    def call() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(time, "sleep", waits.append)
    assert pipeline._waiting_for_registry(call, said.append) == 7
    assert waits == [1.0, 2.0]
    assert said[0] == "waiting  registry down; retrying in 1 s"


def test_run_gives_up_after_the_wait_with_the_outage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "REGISTRY_WAIT_S", 0)

    def down() -> None:
        raise RegistryUnavailable("schema registry at http://x does not answer")

    with pytest.raises(RegistryUnavailable, match="does not answer"):
        pipeline._waiting_for_registry(down, print)
