"""Topic names and their creation: topics are made on purpose, never auto-created."""

from __future__ import annotations

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from flink_jobs.errors import UserError


def ensure_topics(
    bootstrap: str, topics: list[str], partitions: int = 3, config: dict[str, str] | None = None
) -> None:
    """Create the topics that do not exist yet; existing ones are left as they are."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 3000, "log_level": 0})
    existing = set(admin.list_topics(timeout=5).topics)
    missing = [
        NewTopic(t, num_partitions=partitions, replication_factor=1, config=config or {})
        for t in topics
        if t not in existing
    ]
    if not missing:
        return
    for topic, future in admin.create_topics(missing, operation_timeout=10).items():
        try:
            future.result()
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise UserError(f"kafka: cannot create topic {topic}: {exc}") from exc
