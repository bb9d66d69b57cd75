"""`sportsfeat rebuild`: restore the Redis online store from the Kafka feature topics.

The feature topics are the source of truth: compacted, they keep the newest value of every
entity. Replaying them through the same event-time-guarded writes as the writer gives the
store exactly the newest committed value per entity, whatever Redis lost or kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import redis
from confluent_kafka.admin import AdminClient

from flink_jobs.errors import UserError
from flink_jobs.online_store import FEATURE_TOPIC, FeatureGroupRef
from flink_jobs.settings import Settings
from flink_jobs.writer import Writer


def feature_topics(bootstrap: str) -> list[str]:
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
    return sorted(t for t in admin.list_topics(timeout=10).topics if FEATURE_TOPIC.match(t))


def clear(redis_url: str, ref: FeatureGroupRef) -> int:
    """Delete every stored value of one feature-group version; returns how many."""
    client = redis.Redis.from_url(redis_url)
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=ref.key("*"), count=1000):
        batch.append(key)
        if len(batch) == 1000:
            deleted += client.delete(*batch)
            batch = []
    return deleted + (client.delete(*batch) if batch else 0)


def rebuild(
    settings: Settings, topics: list[str] | None, wipe: bool, say: Callable[[str], None]
) -> int:
    """Replay `topics` (default: every feature topic) into Redis; returns values applied."""
    chosen = topics or feature_topics(settings.kafka_bootstrap)
    if not chosen:
        raise UserError("no feature topics (features.<group>.v<n>) in Kafka to rebuild from")
    for topic in chosen:
        if not FEATURE_TOPIC.match(topic):
            raise UserError(f"{topic!r} is not a feature topic (features.<group>.v<version>)")
        if wipe:
            deleted = clear(settings.redis_url, FeatureGroupRef.from_topic(topic))
            say(f"{topic}: deleted {deleted} stored values")
    writer = Writer(
        settings.kafka_bootstrap,
        settings.registry_url,
        settings.redis_url,
        group_id=f"sportsfeat-rebuild-{uuid.uuid4().hex[:8]}",
        committed_only=True,  # what the job committed, not what an aborted attempt wrote
    )
    writer.run(chosen, until_caught_up=True)
    say(f"rebuilt from {', '.join(chosen)}: {writer.applied} values applied, "
        f"{writer.rejected} records rejected")  # fmt: skip
    return writer.applied
