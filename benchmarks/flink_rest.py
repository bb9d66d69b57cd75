"""What the benchmark asks Flink's REST API: job state, the Kafka source's read offsets,
and completed checkpoints (duration and size)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from flink_jobs.errors import UserError
from flink_jobs.flink_http import get_json


@dataclass(frozen=True)
class Checkpoint:
    id: int
    duration_ms: float  # end to end
    state_bytes: float  # the whole state
    checkpointed_bytes: float  # written by this checkpoint (incremental RocksDB)


OFFSET_METRIC = re.compile(r"^(\d+)\..*KafkaSourceReader\..*partition\.(\d+)\.currentOffset$")


class FlinkRest:
    def __init__(self, url: str, transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=url, timeout=10, transport=transport)

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return get_json(self._http, path, params)

    def state(self, job_id: str) -> str:
        return str(self._get(f"/jobs/{job_id}")["state"])

    def wait_running(self, job_id: str, timeout_s: float) -> float:
        """Seconds until every task of the job runs; UserError naming the state otherwise."""
        started = time.monotonic()
        state = "unknown"
        while time.monotonic() - started < timeout_s:
            job = self._get(f"/jobs/{job_id}")
            state = job["state"]
            if state in ("FAILED", "CANCELED", "FINISHED"):
                raise UserError(f"job {job_id} is {state}; see `sportsfeat stack logs flink`")
            if state == "RUNNING" and all(v["status"] == "RUNNING" for v in job["vertices"]):
                return time.monotonic() - started
            time.sleep(0.5)
        raise UserError(f"job {job_id} not running after {timeout_s:.0f} s (state {state})")

    def run_seconds(self, job_id: str, timeout_s: float) -> float:
        """A bounded job's FINISHED - RUNNING (deployment included), once it finished."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job = self._get(f"/jobs/{job_id}")
            if job["state"] == "FINISHED":
                stamps = job["timestamps"]
                return float(stamps["FINISHED"] - stamps["RUNNING"]) / 1000
            if job["state"] in ("FAILED", "CANCELED"):
                raise UserError(f"job {job_id} is {job['state']}: see the Flink web UI")
            time.sleep(1)
        raise UserError(f"job {job_id} did not finish within {timeout_s:.0f} s")

    def source_offsets(self, job_id: str) -> dict[int, int] | None:
        """Per partition, the offset after the last record the Kafka source read (the
        connector's currentOffset gauge plus one); None until the source reports it."""
        offsets: dict[int, int] = {}
        for vertex in self._get(f"/jobs/{job_id}")["vertices"]:
            if not vertex["name"].startswith("Source"):
                continue
            base = f"/jobs/{job_id}/vertices/{vertex['id']}/metrics"
            ids = [m["id"] for m in self._get(base) if OFFSET_METRIC.match(m["id"])]
            if not ids:
                continue
            values = self._get(base, params={"get": ",".join(ids)})
            for metric in values:
                match = OFFSET_METRIC.match(metric["id"])
                offset = int(float(metric["value"]))
                if match and offset >= 0:
                    partition = int(match[2])
                    offsets[partition] = max(offsets.get(partition, 0), offset + 1)
        return offsets or None

    def checkpoints(self, job_id: str) -> list[Checkpoint]:
        """The completed checkpoints Flink still lists (its history keeps the last ten)."""
        history = self._get(f"/jobs/{job_id}/checkpoints").get("history", [])
        return [
            Checkpoint(
                int(c["id"]),
                float(c["end_to_end_duration"]),
                float(c["state_size"]),
                float(c.get("checkpointed_size", c["state_size"])),
            )
            for c in history
            if c.get("status") == "COMPLETED"
        ]

    def cancel(self, job_id: str) -> None:
        self._http.patch(f"/jobs/{job_id}", params={"mode": "cancel"})
