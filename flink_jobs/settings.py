"""Where every service listens and where state lives: the only module that reads the environment.

Every value has a default that works on a fresh machine; each can be overridden by an
environment variable named ``SPORTSFEAT_<FIELD>`` (e.g. ``SPORTSFEAT_KAFKA_PORT=19092``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from flink_jobs.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "SPORTSFEAT_"
LOG_FORMATS = ("auto", "json", "text")


@dataclass(frozen=True)
class Settings:
    state_dir: Path = PROJECT_ROOT / ".stack"
    jar_cache: Path = Path.home() / ".cache" / "sportsfeat" / "jars"
    host: str = "127.0.0.1"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    registry_port: int = 8080
    redis_port: int = 6379
    flink_rest_port: int = 8081
    flink_rpc_port: int = 6123
    flink_task_slots: int = 4
    api_port: int = 8000
    writer_metrics_port: int = 9260  # the writer's /metrics (Flink's reporters use 9249-9259)
    api_keys: str = ""  # comma-separated keys of the feature-serving API; empty = auth off
    environment: str = "dev"  # dev or prod: prod refuses to serve without API keys
    log_format: str = "auto"  # json, text, or auto: text on a terminal, JSON lines otherwise

    def __post_init__(self) -> None:
        ports = {f.name: getattr(self, f.name) for f in fields(self) if f.name.endswith("_port")}
        for name, port in ports.items():
            if not 1024 <= port <= 65535:
                label = name.replace("_", " ")
                raise UserError(f"{label} {port} is out of range: use a port from 1024 to 65535")
        taken: dict[int, str] = {}
        for name, port in ports.items():
            if port in taken:
                raise UserError(f"{name} and {taken[port]} are both {port}: give each its own port")
            taken[port] = name
        if self.log_format not in LOG_FORMATS:
            choices = ", ".join(LOG_FORMATS)
            raise UserError(f"log format {self.log_format!r} is unknown: use one of {choices}")

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.host}:{self.kafka_port}"

    @property
    def registry_url(self) -> str:
        """Base URL of the Confluent-compatible API, as Flink and confluent-kafka expect it."""
        return f"http://{self.host}:{self.registry_port}/apis/ccompat/v7"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.host}:{self.redis_port}/0"

    @property
    def flink_rest_url(self) -> str:
        return f"http://{self.host}:{self.flink_rest_port}"

    def as_environment(self) -> dict[str, str]:
        """These settings as the SPORTSFEAT_* variables a child process reads back."""
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in fields(self)}

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Settings from defaults overridden by ``SPORTSFEAT_*`` environment variables."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = env.get(ENV_PREFIX + f.name.upper())
        if raw is None:
            continue
        if f.type == "int":
            try:
                values[f.name] = int(raw)
            except ValueError:
                raise UserError(
                    f"{ENV_PREFIX}{f.name.upper()}={raw!r} is not a whole number"
                ) from None
        elif f.type == "Path":
            values[f.name] = Path(raw).expanduser().resolve()
        else:
            values[f.name] = raw
    return Settings(**values)  # type: ignore[arg-type]
