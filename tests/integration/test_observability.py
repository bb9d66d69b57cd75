"""Observability on the real stack (issue #8): the real endpoints' key metrics exist and move.

Events in move Flink's read counter; closed windows move the writer's updates, freshness and
visible lag; malformed records move the dead-letter counter (and `status` counts them);
stopping Redis moves the writer's error counter; requests move the API's counters.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx
from prometheus_client.parser import text_string_to_metric_families

from flink_jobs.generator.config import Fault
from flink_jobs.generator.faults import corrupt
from flink_jobs.metrics import (
    API_LATENCY,
    API_REQUESTS,
    CONSUMER_LAG,
    FEATURE_UPDATES,
    FRESHNESS,
    PIPELINE_RECORDS,
    REDIS_ERRORS,
    SERIES,
    VISIBLE_LAG,
    WRITER_RECORDS_READ,
)
from flink_jobs.online_store import FeatureGroupRef
from flink_jobs.producer import GovernedProducer
from flink_jobs.settings import Settings
from flink_jobs.stack import manager
from flink_jobs.stack.flink_cluster import PROMETHEUS_PORTS
from flink_jobs.stack.redis_server import Redis
from tests.integration.conftest import eventually
from tests.integration.events import MINUTE, event

Sample = tuple[str, dict[str, str], float]


class Job(Protocol):
    """What this test needs of the `job` fixture: a job of its own, on topics of its own."""

    @property
    def bootstrap(self) -> str: ...
    @property
    def registry_url(self) -> str: ...
    @property
    def job_name(self) -> str: ...
    @property
    def source_topic(self) -> str: ...
    @property
    def feature_topic(self) -> str: ...


BYTE_FAULTS = (Fault.WRONG_MAGIC_BYTE, Fault.UNKNOWN_SCHEMA_ID, Fault.TRUNCATED_PAYLOAD)


def scrape(url: str) -> list[Sample]:
    text = httpx.get(url, timeout=5).raise_for_status().text
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def flink_samples(stack: Settings) -> list[Sample]:
    """Every Flink process's reporter (JobManager and TaskManager take a port each)."""
    first, last = (int(p) for p in PROMETHEUS_PORTS.split("-"))
    samples: list[Sample] = []
    for port in range(first, last + 1):
        try:
            samples += scrape(f"http://{stack.host}:{port}/metrics")
        except httpx.HTTPError:
            continue
    return samples


def total(samples: list[Sample], name: str, **labels: str) -> float | None:
    """The sum of `name`'s samples carrying `labels`; None when there is none."""
    found = [v for n, got, v in samples if n == name and labels.items() <= got.items()]
    return sum(found) if found else None


def flink_label(value: str) -> str:
    """A label value as Flink's reporter exports it."""
    return "".join(c if c.isalnum() or c in ":_" else "_" for c in value)


def moved(read: Callable[[], float | None], beyond: float, what: str) -> float:
    """Wait until `read` gives more than `beyond`; that value."""

    def probe() -> float | None:
        value = read()
        return value if value is not None and value > beyond else None

    return eventually(probe, 90, what)


def test_key_metrics_exist_and_move(stack: Settings, job: Job) -> None:
    writer_url = f"http://{stack.host}:{stack.writer_metrics_port}/metrics"
    api_url = f"http://{stack.host}:{stack.api_port}"
    ref = FeatureGroupRef.from_topic(job.feature_topic)
    group = {"group": ref.group, "version": str(ref.version)}
    # The job counts under its definitions' source topic; its own job name tells it apart.
    source = flink_label("fan.interactions")
    mine = {"source": source, "job_name": flink_label(job.job_name)}
    records = PIPELINE_RECORDS.name
    producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
    t0 = (int(time.time() * 1000) // MINUTE - 10) * MINUTE

    # Events in: Flink counts them as read, by source and event type.
    producer.send_all([event("ann", t0, 1), event("bob", t0, 2), event("ann", t0, 70)])
    moved(lambda: total(flink_samples(stack), records, kind="read", **mine), 2, "reads")
    assert total(flink_samples(stack), records, kind="read", detail="view", **mine) == 3

    # A window closed: the writer applied it, knows its freshness and how late it became visible.
    updates = f"{FEATURE_UPDATES.name}_total"

    def applied() -> float | None:
        return total(scrape(writer_url), updates, outcome="applied", **group)

    moved(applied, 1, "ann's and bob's first window applied")
    writer = scrape(writer_url)
    assert total(writer, f"{WRITER_RECORDS_READ.name}_total", topic=job.feature_topic)
    window_end_s = (t0 + MINUTE) / 1000
    freshness = total(writer, FRESHNESS.name, **group)
    assert freshness is not None
    assert abs(freshness - (time.time() - window_end_s)) < 5
    assert total(writer, f"{VISIBLE_LAG.name}_count", **group) == 2  # ann's and bob's window
    moved(
        lambda: total(scrape(writer_url), CONSUMER_LAG.name, topic=job.feature_topic),
        -1,
        "the writer's consumer lag",
    )
    assert {name for name, _, _ in writer} <= SERIES

    # Malformed records: dead-lettered, counted by Flink and by `sportsfeat status`.
    valid = producer.encoder.encode(event("cat", t0, 80))
    for kind in BYTE_FAULTS * 2:
        producer.send_encoded("cat", corrupt(valid, kind))
    producer.flush()
    malformed = 2 * len(BYTE_FAULTS)

    def dead_letters() -> float | None:
        return total(flink_samples(stack), records, kind="dead_letter", **mine)

    assert moved(dead_letters, malformed - 1, "dead letters") == malformed

    def status_with_dead_letters() -> tuple[subprocess.CompletedProcess[str], Any] | None:
        """`status --json` once the dead letters are committed (the next checkpoint)."""
        done = subprocess.run(
            [sys.executable, "-m", "flink_jobs.cli", "status", "--json", "--job", job.job_name],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        report = json.loads(done.stdout)
        [dlq] = [d for d in report["dead_letters"] if d["source"] == job.source_topic]
        # an offset span: transaction markers count too
        return (done, report) if dlq["count"] >= malformed else None

    status, report = eventually(status_with_dead_letters, 60, "dead letters in `status`")
    [running] = [j for j in report["jobs"] if j["name"] == job.job_name]
    assert running["state"] == "RUNNING" and "checkpoint" in running
    assert f"features {ref.group} v{ref.version} are" in " ".join(report["problems"])  # 10 min old
    assert status.returncode == 1

    # The API counts requests by route and status, and times them.
    headers = {"X-API-Key": stack.api_keys.split(",")[0]} if stack.api_keys else {}
    route = "/features/{group}/v{version}/{entity_id}"
    before = total(scrape(f"{api_url}/metrics"), f"{API_REQUESTS.name}_total", route=route) or 0
    httpx.get(f"{api_url}/features/user_activity/v1/ann", headers=headers, timeout=5)
    api = scrape(f"{api_url}/metrics")
    assert total(api, f"{API_REQUESTS.name}_total", route=route) == before + 1
    assert total(api, f"{API_LATENCY.name}_count", route=route)

    # Redis stops: the writer keeps serving metrics, counts its failed writes, then recovers.
    errors = f"{REDIS_ERRORS.name}_total"
    errors_before = total(scrape(writer_url), errors) or 0
    applied_before = applied() or 0
    Redis(stack).stop()
    try:
        producer.send_all([event("ann", t0, 130)])  # closes ann's second window
        moved(lambda: total(scrape(writer_url), errors), errors_before, "Redis errors")
    finally:
        manager.up(stack, print)
    moved(applied, applied_before, "ann's second window applied after Redis is back")
