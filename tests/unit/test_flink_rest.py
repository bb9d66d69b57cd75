"""The benchmark's Flink REST reads survive a busy JobManager's slow answers."""

from __future__ import annotations

import httpx
import pytest

from benchmarks.flink_rest import FlinkRest
from flink_jobs.flink_http import ATTEMPTS as GET_ATTEMPTS


def answering_after(timeouts: int) -> tuple[httpx.MockTransport, list[int]]:
    calls: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) <= timeouts:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json={"state": "RUNNING"})

    return httpx.MockTransport(handle), calls


def test_a_read_that_times_out_is_asked_again() -> None:
    transport, calls = answering_after(GET_ATTEMPTS - 1)
    assert FlinkRest("http://flink", transport).state("job") == "RUNNING"
    assert len(calls) == GET_ATTEMPTS


def test_a_jobmanager_that_never_answers_fails_the_read() -> None:
    transport, calls = answering_after(GET_ATTEMPTS)
    with pytest.raises(httpx.ReadTimeout):
        FlinkRest("http://flink", transport).state("job")
    assert len(calls) == GET_ATTEMPTS
