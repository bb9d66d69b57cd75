"""The feature job's Kafka tables: v2's read with connector kafka-lag-aware (udfs/java) instead
of Flink's idle timeout, so a partition with unread records keeps holding the watermark; v1's
keep Flink's connector and idle timeout (their released plans name them)."""

from __future__ import annotations

import pytest

from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.sources import kafka_options

SECURITY = (
    "SPORTSFEAT_KAFKA_SECURITY_PROTOCOL",
    "SPORTSFEAT_KAFKA_SASL_USERNAME",
    "SPORTSFEAT_KAFKA_SASL_PASSWORD",
    "SPORTSFEAT_KAFKA_SSL_CA_FILE",
)


@pytest.fixture(autouse=True)
def _local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECURITY:
        monkeypatch.delenv(name, raising=False)


def test_quiet_after_is_the_sources_idle_timeout_and_flinks_idleness_is_off() -> None:
    source = CATALOGUE[0].source
    options = dict(
        kafka_options(source, "fan.interactions", "kafka:9092", "g", False, lag_aware=True)
    )
    assert options["lag-aware.quiet-after"] == f"{source.idle_timeout.total_seconds():g} s"
    assert options["lag-aware.check-interval"] == "1 s"
    assert "scan.watermark.idle-timeout" not in options
    assert options["properties.isolation.level"] == "read_committed"  # lag: last stable offsets
    assert options["scan.startup.mode"] == "group-offsets"
    assert "scan.bounded.mode" not in options


def test_a_backfill_reads_from_the_earliest_to_the_end_offsets() -> None:
    options = dict(kafka_options(CATALOGUE[0].source, "t", "kafka:9092", "g", True, bounded=True))
    assert options["scan.startup.mode"] == "earliest-offset"
    assert options["scan.bounded.mode"] == "latest-offset"
    assert options["scan.watermark.emit.strategy"] == "on-event"


def test_v1_keeps_flinks_idle_timeout() -> None:
    source = CATALOGUE[0].source
    options = dict(kafka_options(source, "fan.interactions", "kafka:9092", "g", False))
    assert options["scan.watermark.idle-timeout"] == f"{source.idle_timeout.total_seconds():g} s"
    assert not any(key.startswith("lag-aware.") for key in options)
