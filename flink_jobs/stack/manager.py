"""`stack up | down | status | logs`: start in order, wait until each really answers."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flink_jobs import savepoints
from flink_jobs.errors import UserError
from flink_jobs.settings import Settings
from flink_jobs.stack.api import FeatureApi
from flink_jobs.stack.flink_cluster import FlinkCluster
from flink_jobs.stack.kafka import Kafka
from flink_jobs.stack.redis_server import Redis
from flink_jobs.stack.registry import Registry
from flink_jobs.stack.service import Service, port_in_use
from flink_jobs.stack.writer import OnlineStoreWriter

STARTUP_TIMEOUT_S = {
    "kafka": 90, "registry": 120, "redis": 120, "flink": 120, "writer": 60, "api": 60
}  # fmt: skip


def services(settings: Settings) -> list[Service]:
    """In start order: each may depend on the ones before it."""
    kinds: list[type[Service]] = [
        Kafka,
        Registry,
        Redis,
        FlinkCluster,
        OnlineStoreWriter,
        FeatureApi,
    ]
    return [kind(settings) for kind in kinds]


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool
    problem: str | None
    listens: str
    log: str

    @property
    def healthy(self) -> bool:
        return self.running and self.problem is None


def wait_ready(service: Service, say: Callable[[str], None]) -> float:
    """Seconds until `service` answers its probe; UserError with its log tail otherwise."""
    started = time.monotonic()
    deadline = started + STARTUP_TIMEOUT_S[service.name]
    problem: str | None = "not probed yet"
    while time.monotonic() < deadline:
        dead = service.exited()
        if dead:
            raise UserError(
                f"{service.name} exited while starting; last lines of {dead[0].log_file}:\n"
                + dead[0].tail()
            )
        problem = service.probe()
        if problem is None:
            return time.monotonic() - started
        time.sleep(1)
    logs = service.processes()[0]
    raise UserError(
        f"{service.name} did not answer within {STARTUP_TIMEOUT_S[service.name]} s ({problem}); "
        f"last lines of {logs.log_file}:\n{logs.tail()}"
    )


def up(settings: Settings, say: Callable[[str], None]) -> list[ServiceStatus]:
    """Start whatever is not running yet and wait until every service answers (idempotent)."""
    for service in services(settings):
        if service.running():
            if service.probe() is None:
                say(f"{service.name:9} already running")
                continue
            wait_ready(service, say)
            say(f"{service.name:9} running")
            continue
        service.stop()  # a half-started service (one of its processes died): start clean
        busy = [p for p in service.ports() if port_in_use(settings.host, p)]
        if busy:
            raise UserError(
                f"{service.name}: port {busy[0]} on {settings.host} is taken by a process this "
                f"stack did not start; stop it or choose another port "
                f"(e.g. SPORTSFEAT_{service.name.upper()}_PORT)"
            )
        say(f"{service.name:9} starting ...")
        service.start()
        took = wait_ready(service, say)
        say(f"{service.name:9} ready in {took:.1f} s")
    return status(settings)


def down(settings: Settings, purge: bool, say: Callable[[str], None]) -> None:
    """Stop, by recorded pid, only what `up` started; `purge` also deletes all state.

    Running jobs are first stopped with a savepoint, which `run` resumes (unless purging).
    """
    for service in reversed(services(settings)):
        if isinstance(service, FlinkCluster) and not purge and service.probe() is None:
            for name, location in savepoints.stop_all(settings):
                say(f"{'flink':9} job {name} stopped with savepoint {location}")
        say(f"{service.name:9} {'stopped' if service.stop() else 'was not running'}")
    if purge and settings.state_dir.exists():
        shutil.rmtree(settings.state_dir)
        say(f"purged {settings.state_dir}")


def status(settings: Settings) -> list[ServiceStatus]:
    result = []
    for service in services(settings):
        running = service.running()
        result.append(
            ServiceStatus(
                name=service.name,
                running=running,
                problem=service.probe() if running else "not running",
                listens=service.listens(),
                log=" ".join(str(p.log_file) for p in service.processes()),
            )
        )
    return result


def log_files(settings: Settings, name: str) -> list[Path]:
    for service in services(settings):
        if name == service.name:
            return [proc.log_file for proc in service.processes()]
    known = ", ".join(s.name for s in services(settings))
    raise UserError(f"no service named {name!r}: choose one of {known}")
