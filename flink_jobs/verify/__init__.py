"""Independent recomputation of features from an event log (plain Python, no Flink, written
from the definitions' documented semantics) and comparison with what Flink produced: the
oracle of the tests, the failure drills and the benchmark's correctness check."""
