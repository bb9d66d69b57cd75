"""Benchmarks on the real local stack; results go to benchmarks/results/."""
