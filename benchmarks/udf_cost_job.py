"""One aggregate over the feature job's own source: what `benchmarks.udf_cost` times.

The source is flink_read_job's (raw bytes decoded by DECODE_AVRO, event time, watermark);
then one aggregation per user and 1-minute tumbling window into a blackhole sink. The
aggregate is the command line's `--aggregate` SQL expression, over the window TVF the
generated SQL uses, or with `--group-window` over the legacy `GROUP BY TUMBLE(...)` group
window: the only streaming window operator that runs a Python aggregate function (in a
window TVF a general Python UDAF is planned as an unbounded group aggregate that emits an
update per row, and a pandas UDAF not at all).

Beside the Java UDFs, it registers TOP_K written in Python, as a general UDAF (PY_TOP_K)
and a pandas UDAF (PANDAS_TOP_K): baselines for what a Python TOP_K would cost, not
product code. Submitted by the benchmark with `flink run -pym`, `--aggregate EXPR
[--group-window]` and the feature job's command line (as flink_read_job).
"""

from __future__ import annotations

import argparse
import heapq
from typing import Any

from pyflink.common import Row
from pyflink.table import (
    AggregateFunction,
    DataTypes,
    EnvironmentSettings,
    TableDescriptor,
    TableEnvironment,
)
from pyflink.table.udf import udaf

from benchmarks.flink_read_job import register_decoded_source
from flink_jobs.features.catalogue import INTERACTIONS
from flink_jobs.job import configure
from flink_jobs.job_config import JobConfig

VIEW = f"{INTERACTIONS.name}_decoded"
TIME = INTERACTIONS.event_time


def aggregation_sql(aggregate: str, group_window: bool = False) -> str:
    """Per user and 1-minute tumbling window: user_id, window_start, window_end, value."""
    if group_window:
        window = f"`{TIME}`, INTERVAL '1' MINUTE"
        return (
            f"SELECT `user_id`, TUMBLE_START({window}) AS `window_start`, "  # noqa: S608
            f"TUMBLE_END({window}) AS `window_end`, {aggregate} AS `value` "
            f"FROM `{VIEW}` GROUP BY `user_id`, TUMBLE({window})"
        )
    return (
        f"SELECT `user_id`, `window_start`, `window_end`, {aggregate} AS `value` "  # noqa: S608
        f"FROM TABLE(TUMBLE(TABLE `{VIEW}`, DESCRIPTOR(`{TIME}`), INTERVAL '1' MINUTE)) "
        "GROUP BY `user_id`, `window_start`, `window_end`"
    )


def top_k(counts: dict[str, int], k: int) -> list[str] | None:
    """Java TopK's rule: most frequent first, ties by item ascending (Java's UTF-16 order is
    Python's for the schema's lower-case names); NULL for an empty group."""
    best = heapq.nsmallest(k, counts.items(), key=lambda item: (-item[1], item[0]))
    return [item for item, _ in best] or None


class PythonTopK(AggregateFunction):  # type: ignore[misc]  # pyflink is untyped
    """TOP_K(item, k) as udfs/java TopK: an exact count per item, k kept in the accumulator
    (get_value sees no arguments). No merge: a tumbling group window never merges."""

    def create_accumulator(self) -> Row:
        return Row({}, 0)

    def accumulate(self, accumulator: Row, item: str | None, k: int) -> None:
        if item is not None:
            counts: dict[str, int] = accumulator[0]
            counts[item] = counts.get(item, 0) + 1
            accumulator[1] = k

    def get_value(self, accumulator: Row) -> list[str] | None:
        return top_k(accumulator[0], accumulator[1])

    def get_result_type(self) -> Any:
        return DataTypes.ARRAY(DataTypes.STRING())

    def get_accumulator_type(self) -> Any:
        return DataTypes.ROW(
            [
                DataTypes.FIELD("counts", DataTypes.MAP(DataTypes.STRING(), DataTypes.BIGINT())),
                DataTypes.FIELD("k", DataTypes.INT()),
            ]
        )


def pandas_top_k(items: Any, k: Any) -> list[str] | None:
    """TOP_K over the window's rows at once (pandas Series; k a Series of the literal)."""
    counts = items.dropna().value_counts()
    return top_k(dict(zip(counts.index, counts.tolist(), strict=True)), int(k.iloc[0]))


def register_python_functions(t_env: TableEnvironment) -> None:
    t_env.create_temporary_function("PY_TOP_K", udaf(PythonTopK()))
    t_env.create_temporary_function(
        "PANDAS_TOP_K",
        udaf(pandas_top_k, result_type=DataTypes.ARRAY(DataTypes.STRING()), func_type="pandas"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--aggregate", required=True, help="an SQL aggregate expression")
    parser.add_argument("--group-window", action="store_true", help="GROUP BY TUMBLE(...)")
    args, job_args = parser.parse_known_args()
    config = JobConfig.parse(job_args)
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    configure(t_env, config)
    register_decoded_source(t_env, config)
    register_python_functions(t_env)
    query = t_env.sql_query(aggregation_sql(args.aggregate, args.group_window))
    query.execute_insert(TableDescriptor.for_connector("blackhole").build())


if __name__ == "__main__":
    main()
