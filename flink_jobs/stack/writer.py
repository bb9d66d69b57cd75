"""The online-store writer as a stack service (see flink_jobs.writer)."""

from __future__ import annotations

import sys

import redis

from flink_jobs.settings import PROJECT_ROOT
from flink_jobs.stack.service import Launch, Service
from flink_jobs.writer import HEARTBEAT_KEY


class OnlineStoreWriter(Service):
    name = "writer"

    def process_names(self) -> list[str]:
        return ["writer"]

    def ports(self) -> list[int]:
        return [self.settings.writer_metrics_port]

    def listens(self) -> str:
        metrics = f"http://{self.settings.host}:{self.settings.writer_metrics_port}/metrics"
        return f"features.* -> {self.settings.redis_url}, metrics {metrics}"

    def launches(self) -> list[Launch]:
        # A heartbeat left by an earlier writer must not pass for this one's readiness.
        redis.Redis.from_url(self.settings.redis_url, socket_timeout=2).delete(HEARTBEAT_KEY)
        return [
            Launch(
                "writer",
                [sys.executable, "-m", "flink_jobs.writer"],
                PROJECT_ROOT,
                self.settings.as_environment(),
            )
        ]

    def probe(self) -> str | None:
        try:
            client = redis.Redis.from_url(self.settings.redis_url, socket_timeout=2)
            return None if client.exists(HEARTBEAT_KEY) else "no heartbeat in Redis yet"
        except redis.RedisError as exc:
            return f"Redis: {exc}"
