"""Start, find and stop the stack's processes by recorded pid, never by name.

A pid file holds the pid and the process start time from /proc, so a recycled pid is
never mistaken for ours and ``down`` stops only what ``up`` started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


def _start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime); the command name in field 2 may hold spaces, so split after ')'.
    return int(stat.rsplit(")", 1)[1].split()[19])


@dataclass(frozen=True)
class ManagedProcess:
    """One long-running process of the stack, with its pid file and log file."""

    name: str
    run_dir: Path
    log_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid if the recorded process is still the one we started, else None."""
        try:
            pid_text, ticks_text = self.pid_file.read_text().split()
            pid, ticks = int(pid_text), int(ticks_text)
        except (OSError, ValueError):
            return None
        return pid if _start_ticks(pid) == ticks else None

    def start(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        self.pid_file.write_text(f"{proc.pid} {_start_ticks(proc.pid)}\n")
        return proc.pid

    def stop(self, timeout: float = 30.0, hard: bool = False) -> bool:
        """SIGTERM the process group, SIGKILL it after ``timeout`` (``hard``: at once, a
        crash). True if it was running."""
        pid = self.pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        _signal_group(pid, signal.SIGKILL if hard else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                return True
            time.sleep(0.2)
        _signal_group(pid, signal.SIGKILL)
        return True

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log yet)"


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited already


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
