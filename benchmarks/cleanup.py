"""What a benchmark run leaves behind, deleted: its topics and its Redis keys."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

import redis

from benchmarks import kafka_io
from flink_jobs.settings import Settings


def delete_run_data(
    settings: Settings, ours: Callable[[str], bool], key_patterns: Iterable[str]
) -> tuple[int, int]:
    """Delete the topics `ours` accepts and the keys matching `key_patterns`; the counts."""
    topics = kafka_io.delete_topics(settings.kafka_bootstrap, ours)
    client = redis.Redis.from_url(settings.redis_url)
    keys = 0
    for pattern in key_patterns:
        found = client.scan_iter(match=pattern, count=1000)
        while batch := list(itertools.islice(found, 1000)):
            keys += client.delete(*batch)
    return len(topics), keys
