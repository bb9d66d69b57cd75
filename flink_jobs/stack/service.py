"""What every service of the local stack has: processes to launch, ports, and a readiness probe."""

from __future__ import annotations

import os
import socket
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from flink_jobs.settings import Settings
from flink_jobs.stack.process import ManagedProcess


@dataclass(frozen=True)
class Launch:
    """One process of a service: its name (pid and log file), argv, extra env and cwd."""

    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)


class Service(ABC):
    name: str

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.state_dir / self.name

    @property
    def log_dir(self) -> Path:
        return self.settings.state_dir / "logs"

    def processes(self) -> list[ManagedProcess]:
        run_dir = self.settings.state_dir / "run"
        return [ManagedProcess(name, run_dir, self.log_dir) for name in self.process_names()]

    @abstractmethod
    def process_names(self) -> list[str]: ...

    @abstractmethod
    def ports(self) -> list[int]: ...

    @abstractmethod
    def listens(self) -> str:
        """Where clients reach it, for humans."""

    @abstractmethod
    def launches(self) -> list[Launch]:
        """Prepare config and storage, then say what to run (called only when not running)."""

    @abstractmethod
    def probe(self) -> str | None:
        """None when the service really answers, else why not (one line)."""

    def start(self) -> None:
        for launch in self.launches():
            proc = ManagedProcess(launch.name, self.settings.state_dir / "run", self.log_dir)
            if proc.pid() is None:
                proc.start(launch.argv, {**os.environ, **launch.env}, launch.cwd)

    def stop(self) -> bool:
        stopped = [proc.stop() for proc in reversed(self.processes())]
        return any(stopped)

    def running(self) -> bool:
        return all(proc.pid() is not None for proc in self.processes())

    def exited(self) -> list[ManagedProcess]:
        return [proc for proc in self.processes() if proc.pid() is None]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
