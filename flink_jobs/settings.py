"""Where every service listens and where state lives: the only module that reads the environment.

Every value has a default that works on a fresh machine; each can be overridden by an
environment variable named ``SPORTSFEAT_<FIELD>`` (e.g. ``SPORTSFEAT_KAFKA_PORT=19092``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from flink_jobs.errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "SPORTSFEAT_"
LOG_FORMATS = ("auto", "json", "text")
KAFKA_SECURITY_PROTOCOLS = ("PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
# Flink's SQL Kafka connector shades kafka-clients, its JAAS login module included.
SCRAM_LOGIN_MODULE = (
    "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule"
)


@dataclass(frozen=True)
class Settings:
    state_dir: Path = PROJECT_ROOT / ".stack"
    jar_cache: Path = Path.home() / ".cache" / "sportsfeat" / "jars"
    tool_cache: Path = Path.home() / ".cache" / "sportsfeat" / "bin"  # pinned CLI tools
    results_dir: Path = PROJECT_ROOT / "benchmarks" / "results"  # bench and drill reports
    host: str = "127.0.0.1"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    registry_port: int = 8080
    redis_port: int = 6379
    flink_rest_port: int = 8081
    flink_rpc_port: int = 6123
    flink_task_slots: int = 4
    flink_version: str = ""  # "": this venv's own; else a side release (stack/flink_dist.py)
    api_port: int = 8000
    writer_metrics_port: int = 9260  # the writer's /metrics (Flink's reporters use 9249-9259)
    api_keys: str = ""  # comma-separated keys of the feature-serving API; empty = auth off
    environment: str = "dev"  # dev or prod: prod refuses to serve without API keys
    log_format: str = "auto"  # json, text, or auto: text on a terminal, JSON lines otherwise
    # Services off this machine (Kubernetes): each, when set, replaces host and port above.
    kafka_servers: str = ""  # Kafka's bootstrap.servers, host:port[,host:port...]
    registry_server: str = ""  # base URL of the Confluent-compatible API
    redis_server: str = ""  # host:port of the online store
    # Credentials (a Kubernetes Secret in prod); empty = none, as on the local stack.
    kafka_security_protocol: str = "PLAINTEXT"  # or SASL_SSL (SCRAM over TLS)
    kafka_sasl_mechanism: str = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    kafka_ssl_ca_file: str = ""  # PEM file of the brokers' CA; empty = the system's CAs
    registry_user_info: str = ""  # user:password for the registry's HTTP basic auth
    redis_password: str = ""

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
        if self.kafka_security_protocol not in KAFKA_SECURITY_PROTOCOLS:
            choices = " or ".join(KAFKA_SECURITY_PROTOCOLS)
            raise UserError(
                f"kafka security protocol {self.kafka_security_protocol!r}: use {choices}"
            )
        if self.kafka_sasl_mechanism not in SASL_MECHANISMS:
            choices = " or ".join(SASL_MECHANISMS)
            raise UserError(f"kafka SASL mechanism {self.kafka_sasl_mechanism!r}: use {choices}")
        if self.registry_user_info and ":" not in self.registry_user_info:
            raise UserError("SPORTSFEAT_REGISTRY_USER_INFO must be user:password")
        if self.redis_server and not re.fullmatch(r"[^:/\s]+:\d+", self.redis_server):
            raise UserError(f"redis server {self.redis_server!r} must be host:port")

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka_servers or f"{self.host}:{self.kafka_port}"

    @property
    def registry_url(self) -> str:
        """Base URL of the Confluent-compatible API, as Flink and confluent-kafka expect it."""
        local = f"http://{self.host}:{self.registry_port}/apis/ccompat/v7"
        return self.registry_server.rstrip("/") or local

    @property
    def redis_endpoint(self) -> tuple[str, int]:
        if not self.redis_server:
            return self.host, self.redis_port
        host, port = self.redis_server.rsplit(":", 1)
        return host, int(port)

    @property
    def redis_url(self) -> str:
        """Without the password (redis_password), so that the URL can be shown."""
        host, port = self.redis_endpoint
        return f"redis://{host}:{port}/0"

    def kafka_security(self) -> dict[str, str]:
        """Client settings for the brokers' security, as librdkafka (confluent-kafka) names them.

        Checked here, not on load: a process that never talks to Kafka (the API) needs none.
        """
        if self.kafka_security_protocol == "PLAINTEXT":
            return {}
        if not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise UserError("Kafka SASL_SSL needs SPORTSFEAT_KAFKA_SASL_USERNAME and _PASSWORD")
        config = {
            "security.protocol": self.kafka_security_protocol,
            "sasl.mechanism": self.kafka_sasl_mechanism,
            "sasl.username": self.kafka_sasl_username,
            "sasl.password": self.kafka_sasl_password,
        }
        return config | (
            {"ssl.ca.location": self.kafka_ssl_ca_file} if self.kafka_ssl_ca_file else {}
        )

    def kafka_java_security(self) -> dict[str, str]:
        """The same for Java clients (Flink's Kafka connector: `properties.<key>` options)."""
        if not self.kafka_security():
            return {}
        user, password = (
            _jaas_quoted(v) for v in (self.kafka_sasl_username, self.kafka_sasl_password)
        )
        config = {
            "security.protocol": self.kafka_security_protocol,
            "sasl.mechanism": self.kafka_sasl_mechanism,
            "sasl.jaas.config": (
                f"{SCRAM_LOGIN_MODULE} required username={user} password={password};"
            ),
        }
        if self.kafka_ssl_ca_file:
            config |= {
                "ssl.truststore.type": "PEM",
                "ssl.truststore.location": self.kafka_ssl_ca_file,
            }
        return config

    def secrets(self) -> list[str]:
        """The credential values the process holds, for logs to mask."""
        values = [*self.api_keys.split(","), self.kafka_sasl_password, self.redis_password]
        return [v.strip() for v in values if v.strip()] + (
            [self.registry_user_info.split(":", 1)[1]] if self.registry_user_info else []
        )

    @property
    def flink_rest_url(self) -> str:
        return f"http://{self.host}:{self.flink_rest_port}"

    def as_environment(self) -> dict[str, str]:
        """These settings as the SPORTSFEAT_* variables a child process reads back."""
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name)) for f in fields(self)}

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _jaas_quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


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
