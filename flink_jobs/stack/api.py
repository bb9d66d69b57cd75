"""The feature-serving API as a stack service (see flink_jobs.serving)."""

from __future__ import annotations

import sys

import httpx

from flink_jobs.settings import PROJECT_ROOT
from flink_jobs.stack.service import Launch, Service


class FeatureApi(Service):
    name = "api"

    def process_names(self) -> list[str]:
        return ["api"]

    def ports(self) -> list[int]:
        return [self.settings.api_port]

    def listens(self) -> str:
        return self.url

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.api_port}"

    def launches(self) -> list[Launch]:
        argv = [sys.executable, "-m", "flink_jobs.serving"]
        return [Launch("api", argv, PROJECT_ROOT, self.settings.as_environment())]

    def probe(self) -> str | None:
        try:
            response = httpx.get(f"{self.url}/healthz", timeout=2)
        except httpx.HTTPError as exc:
            return f"GET /healthz: {exc}"
        return None if response.status_code == 200 else f"GET /healthz: {response.status_code}"
