"""Redis, the online store: Debian's redis-server with append-only persistence."""

from __future__ import annotations

import shutil

import redis

from flink_jobs.errors import UserError
from flink_jobs.stack.service import Launch, Service


class Redis(Service):
    name = "redis"

    def process_names(self) -> list[str]:
        return ["redis"]

    def ports(self) -> list[int]:
        return [self.settings.redis_port]

    def listens(self) -> str:
        return self.settings.redis_url

    def launches(self) -> list[Launch]:
        binary = shutil.which("redis-server")
        if binary is None:
            raise UserError(
                "redis-server is not installed: run `sportsfeat setup` (it installs it)"
            )
        self.home.mkdir(parents=True, exist_ok=True)
        argv = [
            binary,
            "--bind", self.settings.host,
            "--port", str(self.settings.redis_port),
            "--dir", str(self.home),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--daemonize", "no",
            "--protected-mode", "yes",
        ]  # fmt: skip
        return [Launch("redis", argv, self.home)]

    def probe(self) -> str | None:
        try:
            client = redis.Redis.from_url(self.settings.redis_url, socket_timeout=2)
            return None if client.ping() else "PING was not answered"
        except redis.RedisError as exc:
            return f"PING: {exc}"
