"""The UDF cost benchmark's pure parts: Python TOP_K's rule, the SQL, the cost figures."""

from __future__ import annotations

from benchmarks.udf_cost import VARIANTS, cost_metrics
from benchmarks.udf_cost_job import aggregation_sql, top_k


def test_python_top_k_ranks_as_the_java_one() -> None:
    counts = {"tennis": 2, "football": 5, "basketball": 2, "golf": 1}
    assert top_k(counts, 3) == ["football", "basketball", "tennis"]  # ties: item ascending
    assert top_k({"golf": 1}, 3) == ["golf"]
    assert top_k({}, 3) is None


def test_the_window_tvf_and_the_group_window_queries() -> None:
    tvf = aggregation_sql("TOP_K(`sport`, 3)")
    assert "TOP_K(`sport`, 3) AS `value` FROM TABLE(TUMBLE(TABLE `fan_interactions_decoded`" in tvf
    assert tvf.endswith("GROUP BY `user_id`, `window_start`, `window_end`")
    legacy = aggregation_sql("PY_TOP_K(`sport`, 3)", group_window=True)
    assert "FROM `fan_interactions_decoded` GROUP BY `user_id`, TUMBLE(`event_time`" in legacy


def test_costs_are_paired_per_run_against_count() -> None:
    rates = {
        "count": [100_000.0, 200_000.0],
        "top_k": [50_000.0, 100_000.0],
        "python_top_k": [10_000.0, 20_000.0],
    }
    figures = {(m.system, m.metric): m for m in cost_metrics(rates)}
    top, python = VARIANTS["top_k"].system, VARIANTS["python_top_k"].system
    assert figures[top, "cost vs COUNT(*)"].median == 2.0
    assert figures[top, "added time per event"].min == 5.0  # 10 µs - 5 µs, run 2
    assert figures[f"{python} / {top}", "cost"].median == 5.0
    assert [s for s, metric in figures if metric == "cost"] == [f"{python} / {top}"]  # ran
