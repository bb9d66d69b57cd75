"""Apicurio Registry with its Confluent-compatible API, storing schemas in an H2 file."""

from __future__ import annotations

import httpx

from flink_jobs.stack.jars import registry_runner
from flink_jobs.stack.service import Launch, Service


class Registry(Service):
    name = "registry"

    def process_names(self) -> list[str]:
        return ["registry"]

    def ports(self) -> list[int]:
        return [self.settings.registry_port]

    def listens(self) -> str:
        return self.settings.registry_url

    def launches(self) -> list[Launch]:
        runner = registry_runner(self.settings.jar_cache)
        self.home.mkdir(parents=True, exist_ok=True)
        props = {
            "quarkus.http.host": self.settings.host,
            "quarkus.http.port": str(self.settings.registry_port),
            # A file database instead of the default in-memory one: schemas survive a restart.
            "apicurio.datasource.url": f"jdbc:h2:file:{self.home / 'db' / 'registry'}",
            "apicurio.datasource.jdbc.initial-size": "2",
            "apicurio.datasource.jdbc.min-size": "2",
            "apicurio.datasource.jdbc.max-size": "20",
            "quarkus.log.console.json": "false",
        }
        argv = ["java", "-Xms128m", "-Xmx512m", *(f"-D{k}={v}" for k, v in props.items())]
        return [Launch("registry", [*argv, "-jar", str(runner)], self.home)]

    def probe(self) -> str | None:
        try:
            response = httpx.get(f"{self.settings.registry_url}/subjects", timeout=3)
        except httpx.HTTPError as exc:
            return f"GET /subjects: {exc}"
        return None if response.status_code == 200 else f"GET /subjects -> {response.status_code}"
