"""User-defined functions for the feature jobs (sketches, top-K, last-N, decay).

Empty until the aggregation catalogue needs them: the first pipeline uses only Flink's
built-in aggregates, which run in the JVM.
"""
