"""The limit's figures as Kafka's consumer perf tool prints them; a bench without a stack."""

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import kafka_io
from benchmarks.systems import QuixPeer, parse_consumer_perf
from flink_jobs.errors import UserError

OUTPUT = """start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, \
rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-11-25 23:00:00:000, 2026-11-25 23:00:04:000, 24.0, 6.0, 150000, 37500.0, 3000, 1000, \
24.0, 150000.0
"""


def test_the_fetch_rate_excludes_the_rebalance() -> None:
    result = parse_consumer_perf(OUTPUT, cpu_s=3.0, peak_rss_kib=2048)
    assert (result.rate, result.records, result.cpu_s) == (150_000.0, 150_000, 3.0)
    with pytest.raises(UserError, match="printed no result"):
        parse_consumer_perf("WARN nothing\n", 0.0, 0)


def test_bench_without_a_stack_says_so_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flink_jobs.cli", "--state-dir", str(tmp_path), "bench", "--quick"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: the stack is not up: kafka (not running)")
    assert "sportsfeat stack up" in result.stderr


def test_the_peer_is_not_drained_while_re_keyed_rows_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """content_trending is re-keyed by content through a repartition topic: the backlog is
    processed only when that topic is too (stopping earlier lost every content window)."""
    lags = {"repartition__g--fan--content_id": 7}
    monkeypatch.setattr(kafka_io, "end_offsets", lambda _b, _t: {0: 10, 1: 20})
    monkeypatch.setattr(kafka_io, "committed", lambda _b, _g, _t, _p: {0: 10, 1: 20})
    monkeypatch.setattr(
        kafka_io, "topics", lambda _b, prefix: [t for t in lags if t.startswith(prefix)]
    )
    monkeypatch.setattr(kafka_io, "lag", lambda _b, _g, topic: lags[topic])
    peer = QuixPeer("quix", Path(sys.executable), ["-c", "pass"], "g", "b", "fan", tmp_path)
    monkeypatch.setattr(
        subprocess, "Popen", lambda *_a, **_k: type("P", (), {"poll": lambda s: None})()
    )
    peer.start()
    assert peer.consumed() == {0: 9, 1: 19}
    lags["repartition__g--fan--content_id"] = 0
    assert peer.consumed() == {0: 10, 1: 20}
