"""The limit's figures as Kafka's consumer perf tool prints them; a bench without a stack."""

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.systems import parse_consumer_perf
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
