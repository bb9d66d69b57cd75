"""The benchmark's profiles: py-spy's raw output and Flink's flame graphs reduced to hotspots,
operator loads and flame graphs from a fake Flink REST API, the report lines."""

import math
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks import profile
from benchmarks.profile import (
    PY_SPY,
    Hotspot,
    OperatorLoad,
    PySpy,
    describe,
    describe_loads,
    flame_graph,
    flame_graph_profile,
    java_frame,
    median_loads,
    operator_loads,
    profile_of,
    py_frame,
    py_spy_profile,
    vertex_name,
)
from flink_jobs.errors import UserError

# py-spy 0.4.3 `record --format raw --nolineno --subprocesses` (a forked child's stack
# starts with its parent's frames), one line from `--threads` and without `--nolineno`, and
# an empty stack: a thread sampled while it exits.
RAW = """\
process 11737:"/venv/bin/python busy.py";<module> (busy.py);outer (busy.py);inner (busy.py) 58
process 11737:"/venv/bin/python busy.py";process 11740:"/venv/bin/python busy.py";\
<module> (busy.py);worker (busy.py);outer (busy.py);inner (busy.py) 28
process 11737:"/venv/bin/python busy.py";<module> (busy.py);outer (busy.py);\
dumps (json/__init__.py);JSONEncoder.encode (json/encoder.py);\
JSONEncoder.iterencode (json/encoder.py) 6
thread (11739): busy-thread;Thread.run (threading.py:982);outer (busy.py:11);inner (busy.py:6) 4
<module> (busy.py);Application.run (/venv/lib/python3.11/site-packages/quixstreams/app.py:812) 2
 2
"""


def test_py_spy_raw_output_by_function() -> None:
    found = py_spy_profile(RAW, top=3)
    assert found.samples == 100
    assert found.hotspots == (
        Hotspot("inner (busy.py)", 0.90, 0.90),
        Hotspot("JSONEncoder.iterencode (json/encoder.py)", 0.06, 0.06),
        Hotspot("Application.run (quixstreams/app.py)", 0.02, 0.02),
    )
    everything = {h.function: h for h in py_spy_profile(RAW, top=100).hotspots}
    assert "outer (busy.py)" not in everything  # never the innermost frame
    assert not any(f.startswith(("process", "thread")) for f in everything)


def test_py_frames_are_functions_in_their_package() -> None:
    assert py_frame("poll (/v/lib/python3.11/site-packages/confluent_kafka/x.py:7)") == (
        "poll (confluent_kafka/x.py)"
    )
    assert py_frame("dumps (/usr/lib/python3.11/json/__init__.py)") == "dumps (json/__init__.py)"
    assert py_frame("<module> (<string>)") == "<module> (<string>)"


def test_recursion_counts_once_per_sample() -> None:
    found = profile_of([(("a", "b", "a"), 3), (("a", "c"), 1)], top=5)
    assert found.hotspots == (Hotspot("a", 0.75, 1.0), Hotspot("c", 0.25, 0.25))
    assert profile_of([], top=5).hotspots == ()


# The JSON of GET /jobs/:jobid/vertices/:vertexid/flamegraph's `data` (Flink 2.2's
# VertexFlameGraph.Node: name `class.method:line`, value the samples through the node).
TREE: dict[str, Any] = {
    "name": "root",
    "value": 10,
    "children": [
        {
            "name": "java.lang.Thread.run:1583",
            "value": 10,
            "children": [
                {
                    "name": "org.apache.flink.streaming.runtime.tasks.StreamTask.invoke:812",
                    "value": 10,
                    "children": [
                        {
                            "name": "org.apache.flink.streaming.runtime.io."
                            "RecordProcessorUtils$$Lambda$0/0x0.accept:-1",
                            "value": 7,
                            "children": [
                                {"name": "org.rocksdb.RocksDB.get:-2", "value": 4, "children": []}
                            ],
                        },
                        {"name": "org.rocksdb.RocksDB.get:-2", "value": 2, "children": []},
                    ],
                }
            ],
        }
    ],
}


def test_flame_graph_self_and_total_samples() -> None:
    found = flame_graph_profile(TREE, top=5)
    assert found.samples == 10
    assert found.hotspots == (
        Hotspot("org.rocksdb.RocksDB.get", 0.6, 0.6),
        Hotspot("org.apache.flink.streaming.runtime.io.RecordProcessorUtils$$Lambda.accept",
                0.3, 0.7),
        Hotspot("org.apache.flink.streaming.runtime.tasks.StreamTask.invoke", 0.1, 1.0),
    )  # fmt: skip


def test_java_frames_read_short() -> None:
    assert java_frame("org.rocksdb.RocksDB.get:-2") == "org.rocksdb.RocksDB.get"
    assert java_frame("a.B$$Lambda0/0x0000743c1c4a3a00.apply:-1") == "a.B$$Lambda.apply"
    long = "org.apache.flink.table.runtime.operators.window.tvf.common.WindowAggOperator.emit:9"
    assert java_frame(long) == "o.a.f.t.r.o.w.t.c.WindowAggOperator.emit"


def test_vertex_names_without_ids_or_details() -> None:
    name = "GlobalWindowAggregate[12] -> Calc[13] -> ConstraintEnforcer[14] -> Sink: feat[14]"
    assert vertex_name(name) == "GlobalWindowAggregate -> Calc -> ConstraintEnforcer -> Sink: feat"
    assert vertex_name("Calc(select=[a, b]) -> Sink: x", width=80) == "Calc -> Sink: x"
    assert vertex_name("Calc[1] -> " * 20, width=30) == "Calc -> Calc -> Calc -> Calc…"
    chained = "Source: k[1] -> Calc[2] -> (Calc[3] -> Sink: dlq[4]: Writer, Calc[5])"
    assert vertex_name(chained) == "Source: k -> Calc -> Calc -> Sink: dlq: Writer, Calc"


JOB = {
    "jid": "j1",
    "vertices": [
        {"id": "v1", "name": "Source: interactions[1] -> Calc[2]", "parallelism": 2},
        {"id": "v2", "name": "GlobalWindowAggregate[12] -> Sink: feat[13]", "parallelism": 2},
        {"id": "v3", "name": "Sink: late[20]", "parallelism": 1},
    ],
}


def _metrics(busy: Any, backpressured: float, idle: float) -> list[dict[str, Any]]:
    values = zip(profile.LOAD_METRICS, (busy, backpressured, idle), strict=True)
    return [{"id": name, "max": value} for name, value in values]


def _flink(busy: list[Any]) -> httpx.MockTransport:
    """A Flink REST API: v1 busy as given, one value per request, v2 back-pressured, v3 not
    reported yet."""

    def handle(request: httpx.Request) -> httpx.Response:
        path, params = request.url.path, request.url.params
        if path == "/jobs/j1":
            return httpx.Response(200, json=JOB)
        assert params["get"] == ",".join(profile.LOAD_METRICS)
        assert params["agg"] == "max"
        if path == "/jobs/j1/vertices/v1/subtasks/metrics":
            return httpx.Response(200, json=_metrics(busy.pop(0), 0.0, 20.0))
        if path == "/jobs/j1/vertices/v2/subtasks/metrics":
            return httpx.Response(200, json=_metrics(150.0, 850.0, 0.0))
        return httpx.Response(200, json=[])

    return httpx.MockTransport(handle)


def test_operator_loads_are_fractions_of_a_second() -> None:
    loads = operator_loads("http://flink", "j1", transport=_flink([980.0]))
    assert loads == [
        OperatorLoad("Source: interactions -> Calc", 0.98, 0.0, 0.02, "v1"),
        OperatorLoad("GlobalWindowAggregate -> Sink: feat", 0.15, 0.85, 0.0, "v2"),
    ]
    (nan,) = operator_loads("http://flink", "j1", transport=_flink(["NaN"]))[:1]
    assert math.isnan(nan.busy)  # Jackson writes NaN as a string


def test_median_loads_over_samples() -> None:
    flink = _flink([100.0, 900.0, 300.0])
    loads = median_loads("http://flink", "j1", seconds=0.003, every_s=0.001, transport=flink)
    assert [(x.vertex_id, x.busy) for x in loads] == [("v1", 0.3), ("v2", 0.15)]


def _flame_graphs(answers: list[dict[str, Any]]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/jobs/j1/vertices/v2/flamegraph"
        assert request.url.params["type"] == "on_cpu"
        answer = answers.pop(0)
        if answer.get("endTimestamp") == "now":
            answer = {**answer, "endTimestamp": int(time.time() * 1000)}
        return httpx.Response(200, json=answer)

    return httpx.MockTransport(handle)


def test_flame_graph_waits_for_one_sampled_after_the_request() -> None:
    old = {"name": "root", "value": 1, "children": [{"name": "old.Frame.x:1", "value": 1}]}
    answers: list[dict[str, Any]] = [
        {"endTimestamp": -3},  # sampling triggered, no graph yet
        {"endTimestamp": 1, "data": old},  # an old cached graph
        {"endTimestamp": "now", "data": TREE},
    ]
    found = flame_graph("http://f", "j1", "v2", poll_s=0, transport=_flame_graphs(answers))
    assert found.samples == 10
    assert found.hotspots[0] == Hotspot("org.rocksdb.RocksDB.get", 0.6, 0.6)
    assert not answers


def test_flame_graph_says_what_is_wrong() -> None:
    with pytest.raises(UserError, match=r"rest\.flamegraph\.enabled"):
        flame_graph("http://f", "j1", "v2", transport=_flame_graphs([{"endTimestamp": -2}]))
    with pytest.raises(UserError, match="no longer running"):
        flame_graph("http://f", "j1", "v2", transport=_flame_graphs([{"endTimestamp": -1}]))
    waiting = _flame_graphs([{"endTimestamp": -3} for _ in range(3)])
    with pytest.raises(UserError, match="no flame graph"):
        flame_graph("http://f", "j1", "v2", timeout_s=0, poll_s=0, transport=waiting)


def test_report_lines() -> None:
    spots = [Hotspot("org.rocksdb.RocksDB.get", 0.234, 0.41), Hotspot("x", 0.01, 0.5)]
    assert describe("Flink, the window vertex (500 samples)", spots, top=1) == [
        "Flink, the window vertex (500 samples):",
        "- 23.4 % self (41.0 % total) org.rocksdb.RocksDB.get",
    ]
    assert describe("py-spy, the peer", [], top=5) == ["py-spy, the peer: no samples"]
    loads = [OperatorLoad("GlobalWindowAggregate -> Calc -> Sink", 0.981, 0.0, 0.019, "v2")]
    assert describe_loads("Operators", loads) == [
        "Operators:",
        "- busy 98 %, back-pressured 0 %: GlobalWindowAggregate -> Calc -> Sink",
    ]


def test_py_spy_missing_or_failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if PY_SPY.is_file():  # a pid beyond the kernel's largest: py-spy fails at once
        beyond = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
        spy = PySpy(beyond, 1, tmp_path / "raw.txt")
        with pytest.raises(UserError, match="py-spy failed: Error: Failed to get process"):
            spy.profile(grace_s=10)
    monkeypatch.setattr(profile, "PY_SPY", tmp_path / "missing")
    with pytest.raises(UserError, match="py-spy is not installed"):
        PySpy(1, 1, tmp_path / "raw.txt")
