"""What the profile shows where the benchmark misses a target: py-spy samples of a Python
process (the peer, PyFlink's UDF workers) and, from Flink's REST API, each operator's busy,
back-pressured and idle time and a vertex's flame graph.

Both kinds of samples reduce to the same hotspots: a function's self share (the samples in
which it is the innermost frame) and its total share (the samples with it on the stack).
Flink samples only each subtask's task thread: the Kafka source's fetcher thread, RocksDB's
background threads and the Python workers are not in its flame graphs.
"""

from __future__ import annotations

import math
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from flink_jobs.errors import UserError

PY_SPY = Path(sys.executable).parent / "py-spy"
Stack = tuple[str, ...]  # outermost frame first


@dataclass(frozen=True)
class Hotspot:
    function: str
    self_share: float  # of all samples: those in which it is the innermost frame
    total_share: float  # of all samples: those with it anywhere on the stack


@dataclass(frozen=True)
class Profile:
    samples: int  # thread samples: py-spy's of non-idle threads, Flink's of task threads
    hotspots: tuple[Hotspot, ...]  # by self share, largest first


def profile_of(stacks: Iterable[tuple[Stack, int]], top: int) -> Profile:
    """The `top` functions by self share of (stack, samples) pairs."""
    total, own, within = 0, Counter[str](), Counter[str]()
    for stack, n in stacks:
        total += n
        if stack:
            own[stack[-1]] += n
        for function in set(stack):  # once per sample, however deep the recursion
            within[function] += n
    ranked = sorted(own, key=lambda f: (-own[f], -within[f], f))[:top]
    return Profile(total, tuple(Hotspot(f, own[f] / total, within[f] / total) for f in ranked))


# --- py-spy --------------------------------------------------------------------------

# Frames py-spy adds with --subprocesses (`process 12:"python app.py"`) and --threads.
_CONTEXT_FRAME = re.compile(r'process \d+:".*"|thread \(\w+\)(: .*)?')
_PY_FRAME = re.compile(r"(?P<name>.+) \((?P<file>.+?)(:\d+)?\)")
_INSTALLED = re.compile(r".*/(site-packages|dist-packages|lib/python\d+\.\d+)/")


def py_frame(frame: str) -> str:
    """`poll (/venv/lib/python3.11/site-packages/quixstreams/app.py:12)` -> `poll
    (quixstreams/app.py)`: by function, the file relative to where it is installed."""
    match = _PY_FRAME.fullmatch(frame)
    if match is None:
        return frame
    return f"{match['name']} ({_INSTALLED.sub('', match['file'])})"


def collapsed_stacks(text: str) -> Iterator[tuple[Stack, int]]:
    """py-spy's raw output, one `frame;frame;...;frame COUNT` line per distinct stack."""
    for line in text.splitlines():
        frames, _, count = line.rpartition(" ")
        if count.isdigit():  # an empty stack (a thread exiting) counts as a sample
            names = (f for f in frames.split(";") if f and not _CONTEXT_FRAME.fullmatch(f))
            yield tuple(py_frame(f) for f in names), int(count)


def py_spy_profile(text: str, top: int = 10) -> Profile:
    return profile_of(collapsed_stacks(text), top)


class PySpy:
    """py-spy sampling a running Python process in the background, without pausing it."""

    def __init__(
        self, pid: int, seconds: float, output: Path, subprocesses: bool = False, rate: int = 50
    ) -> None:
        if not PY_SPY.is_file():
            raise UserError(f"py-spy is not installed next to {sys.executable}: pip install py-spy")
        self.output = output
        self._log = output.with_suffix(".log")
        duration = max(1, math.ceil(seconds))  # py-spy takes whole seconds
        argv = [str(PY_SPY), "record", "--pid", str(pid), "--duration", str(duration)]
        argv += ["--rate", str(rate), "--format", "raw", "--output", str(output)]
        argv += ["--nonblocking", "--nolineno"] + (["--subprocesses"] if subprocesses else [])
        output.unlink(missing_ok=True)
        with self._log.open("w") as log:
            self._process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self._ends = time.monotonic() + duration

    def profile(self, top: int = 10, grace_s: float = 30) -> Profile:
        """Once the recording ended (or the process exited), its hotspots."""
        try:
            code = self._process.wait(max(0, self._ends - time.monotonic()) + grace_s)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            raise UserError(f"py-spy did not finish; see {self._log}") from None
        if code != 0 or not self.output.is_file():
            raise UserError(f"py-spy failed: {self._error()}")
        return py_spy_profile(self.output.read_text(), top)

    def _error(self) -> str:
        lines = [line for line in self._log.read_text().splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("Error:")]
        return (errors or lines or [f"exit code {self._process.returncode}"])[-1]


# --- Flink ---------------------------------------------------------------------------

LOAD_METRICS = ("busyTimeMsPerSecond", "backPressuredTimeMsPerSecond", "idleTimeMsPerSecond")
# VertexFlameGraph's endTimestamp when there is no graph (-3: sampling, none yet).
TERMINATED, DISABLED = -1, -2


@dataclass(frozen=True)
class OperatorLoad:
    """Fractions of a second, each the largest over the vertex's subtasks."""

    name: str
    busy: float
    backpressured: float
    idle: float
    vertex_id: str


_OPERATOR_ID = re.compile(r"\[\d+\]")


def vertex_name(name: str, width: int = 80) -> str:
    """`GlobalWindowAggregate[12] -> Calc[13] -> ...` without the ids and details, at most
    `width` characters."""
    operators = [
        _OPERATOR_ID.sub("", op.lstrip("(")).split("(", 1)[0].strip(" :)")
        for op in name.split(" -> ")
    ]
    short = " -> ".join(op for op in operators if op)
    return short if len(short) <= width else short[: width - 1].rstrip() + "…"


def _client(url: str, transport: httpx.BaseTransport | None) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=10, transport=transport)


def _get(http: httpx.Client, path: str, **params: str) -> Any:
    response = http.get(path, params=params)
    response.raise_for_status()
    return response.json()


def _loads(http: httpx.Client, job_id: str) -> list[OperatorLoad]:
    loads = []
    for vertex in _get(http, f"/jobs/{job_id}")["vertices"]:
        path = f"/jobs/{job_id}/vertices/{vertex['id']}/subtasks/metrics"
        found = _get(http, path, get=",".join(LOAD_METRICS), agg="max")
        peak = {m["id"]: float(m["max"]) / 1000 for m in found}  # NaN comes as "NaN"
        if len(peak) == len(LOAD_METRICS):  # Flink answers [] until all three are reported
            busy, backpressured, idle = (peak[m] for m in LOAD_METRICS)
            loads.append(
                OperatorLoad(vertex_name(vertex["name"]), busy, backpressured, idle, vertex["id"])
            )
    return loads


def operator_loads(
    url: str, job_id: str, transport: httpx.BaseTransport | None = None
) -> list[OperatorLoad]:
    """Each vertex's load now (vertices whose subtasks have not reported yet left out)."""
    with _client(url, transport) as http:
        return _loads(http, job_id)


def median_loads(
    url: str,
    job_id: str,
    seconds: float,
    every_s: float = 2.0,
    transport: httpx.BaseTransport | None = None,
) -> list[OperatorLoad]:
    """Each vertex's median load over `seconds`, sampled every `every_s`: a sample is the
    last 5 s's rate, which the REST API refreshes every metrics.fetcher.update-interval
    (10 s by default)."""
    seen: dict[str, list[OperatorLoad]] = {}
    with _client(url, transport) as http:
        for i in range(max(1, round(seconds / every_s))):
            if i:
                time.sleep(every_s)
            for load in _loads(http, job_id):
                seen.setdefault(load.vertex_id, []).append(load)
    return [
        OperatorLoad(
            loads[0].name,
            statistics.median(x.busy for x in loads),
            statistics.median(x.backpressured for x in loads),
            statistics.median(x.idle for x in loads),
            vertex_id,
        )
        for vertex_id, loads in seen.items()
    ]


_LINE_NUMBER = re.compile(r":-?\d+$")  # -1 unknown, -2 a native method
_LAMBDA = re.compile(r"\$\$Lambda[^.]*")  # Flink's `$$Lambda$0/0x0`, JDK 21's `$$Lambda0/0x0`


def java_frame(name: str, width: int = 80) -> str:
    """`org.rocksdb.RocksDB.get:-2` -> `org.rocksdb.RocksDB.get`, lambdas' generated names
    dropped and, beyond `width`, packages abbreviated (`o.a.f.t.r.WindowOperator.emit`)."""
    name = _LAMBDA.sub("$$Lambda", _LINE_NUMBER.sub("", name))
    if len(name) <= width:
        return name
    parts = name.split(".")
    return ".".join([p[0] if p[:1].islower() else p for p in parts[:-2]] + parts[-2:])


def tree_stacks(node: Mapping[str, Any], stack: Stack = ()) -> Iterator[tuple[Stack, int]]:
    """A flame graph's samples as (stack, samples): each node's value less its children's
    is the samples ending there. The root (`root`) is not a frame."""
    children = node.get("children", [])
    own = int(node["value"]) - sum(int(child["value"]) for child in children)
    if own:
        yield stack, own
    for child in children:
        yield from tree_stacks(child, (*stack, java_frame(child["name"])))


def flame_graph_profile(root: Mapping[str, Any], top: int = 10) -> Profile:
    return profile_of(tree_stacks(root), top)


def flame_graph(
    url: str,
    job_id: str,
    vertex_id: str,
    kind: str = "on_cpu",
    top: int = 10,
    timeout_s: float = 60,
    poll_s: float = 1.0,
    transport: httpx.BaseTransport | None = None,
) -> Profile:
    """The hotspots of a vertex's flame graph sampled after this call (`kind` full, on_cpu or
    off_cpu). Needs rest.flamegraph.enabled; a request triggers sampling (num-samples 100,
    50 ms apart by default) unless the cached graph is younger than
    rest.flamegraph.refresh-interval (60 s): a second call that soon times out."""
    asked_ms = time.time() * 1000
    deadline = time.monotonic() + timeout_s
    path = f"/jobs/{job_id}/vertices/{vertex_id}/flamegraph"
    with _client(url, transport) as http:
        while True:
            graph = _get(http, path, type=kind)
            ended = graph["endTimestamp"]
            if ended == DISABLED:
                raise UserError("Flink's flame graphs are off: set rest.flamegraph.enabled: true")
            if ended == TERMINATED:
                raise UserError(f"vertex {vertex_id} of job {job_id} is no longer running")
            if ended >= asked_ms and "data" in graph:
                return flame_graph_profile(graph["data"], top)
            if time.monotonic() > deadline:
                raise UserError(
                    f"no flame graph of vertex {vertex_id} sampled within {timeout_s:.0f} s "
                    "(one younger than rest.flamegraph.refresh-interval is not resampled)"
                )
            time.sleep(poll_s)


# --- report lines ----------------------------------------------------------------------


def describe(title: str, hotspots: Sequence[Hotspot], top: int) -> list[str]:
    """`title:` and a markdown bullet per hotspot, the largest self share first."""
    if not hotspots:
        return [f"{title}: no samples"]
    return [f"{title}:"] + [
        f"- {h.self_share * 100:.1f} % self ({h.total_share * 100:.1f} % total) {h.function}"
        for h in hotspots[:top]
    ]


def describe_loads(title: str, loads: Sequence[OperatorLoad]) -> list[str]:
    """`title:` and a markdown bullet per vertex, in the job's order."""
    if not loads:
        return [f"{title}: no metrics reported"]
    return [f"{title}:"] + [
        f"- busy {x.busy * 100:.0f} %, back-pressured {x.backpressured * 100:.0f} %: {x.name}"
        for x in loads
    ]
