"""CPU seconds and resident memory of the processes a system runs, from /proc.

A role (e.g. "TaskManager") is one or more root pids with all their descendants (a peer
process's threads, a TaskManager's Python workers). CPU is utime + stime of every process
seen; memory is the sum of VmRSS over the tree, sampled, so its peak is the largest sum
seen while sampling (not the kernel's lifetime high-water mark: the stack's processes
outlive a run).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def cpu_ticks(stat: str) -> int:
    """utime + stime from the text of /proc/<pid>/stat (the name may hold spaces)."""
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def parent(stat: str) -> int:
    return int(stat.rsplit(")", 1)[1].split()[1])


def rss_kib(status: str) -> int:
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # a kernel thread or a zombie


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def descendants(roots: list[int], proc: Path = PROC) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit() and (stat := _read(entry / "stat")) is not None:
            children.setdefault(parent(stat), []).append(int(entry.name))
    found, todo = set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo += children.get(pid, [])
    return found


@dataclass
class Usage:
    """CPU and memory of some roles, from the first sample to the latest."""

    roles: Mapping[str, list[int]]
    proc: Path = PROC
    _first: dict[int, int] = field(default_factory=dict)  # pid -> ticks when first seen
    _last: dict[int, int] = field(default_factory=dict)
    _role_of: dict[int, str] = field(default_factory=dict)
    peak_rss_kib: dict[str, int] = field(default_factory=dict)
    _started: bool = False

    def sample(self) -> dict[str, float]:
        """Take a sample; returns CPU seconds per role since the first sample."""
        for role, roots in self.roles.items():
            rss = 0
            for pid in descendants(roots, self.proc) if roots else ():
                stat = _read(self.proc / str(pid) / "stat")
                status = _read(self.proc / str(pid) / "status")
                if stat is None or status is None:
                    continue
                ticks = cpu_ticks(stat)
                self._first.setdefault(pid, ticks if not self._started else 0)
                self._last[pid] = ticks
                self._role_of[pid] = role
                rss += rss_kib(status)
            self.peak_rss_kib[role] = max(self.peak_rss_kib.get(role, 0), rss)
        self._started = True
        return self.cpu_seconds()

    def cpu_seconds(self) -> dict[str, float]:
        used = {role: 0.0 for role in self.roles}
        for pid, last in self._last.items():
            used[self._role_of[pid]] += (last - self._first[pid]) / TICKS
        return used
