"""Reads of Flink's REST API that survive a busy JobManager.

On two cores shared with the job, the JobManager can take seconds to answer: a read that
times out is asked again (a GET changes nothing) before the caller sees the timeout."""

from __future__ import annotations

from typing import Any

import httpx

ATTEMPTS = 3
TIMEOUT_S = 20


def get_json(http: httpx.Client, url: str, params: dict[str, str] | None = None) -> Any:
    """The JSON answer to GET `url` (raises httpx errors, the last timeout included)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = http.get(url, params=params, timeout=TIMEOUT_S)
        except httpx.TimeoutException:
            if attempt == ATTEMPTS:
                raise
            continue
        response.raise_for_status()
        return response.json()
    raise AssertionError("unreachable")
