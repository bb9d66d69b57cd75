"""Feature rows from Flink compared with the reference: exact, or within a sketch's bound."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from flink_jobs.features.model import Agg, Feature, FeatureGroup
from flink_jobs.verify.reference import WindowKey

HLL_BOUND = 3 * 1.04 / math.sqrt(2**12)  # three sigma at lg_k 12
KLL_RANK_ERROR = 0.02  # k = 200: 1.33% normalized rank error (DataSketches), rounded up
Rows = dict[WindowKey, dict[str, Any]]


def problems(feature: Feature, got: Any, want: Any) -> Iterator[str]:
    """How one feature value differs from the reference's (approximate ones: their bounds)."""
    if want is None or got is None:
        if want is not got:
            yield f"{feature.name}: {got!r} != {want!r}"
    elif feature.agg is Agg.APPROX_DISTINCT:
        if abs(got - want) > max(1, HLL_BOUND * want):
            yield f"{feature.name}: {got} not within {HLL_BOUND:.1%} of {want}"
    elif feature.agg is Agg.PERCENTILE:
        below = sum(v < got for v in want) / len(want)
        at_most = sum(v <= got for v in want) / len(want)
        slack, fraction = KLL_RANK_ERROR + 1 / len(want), feature.fraction or 0.0
        if not below - slack <= fraction <= at_most + slack:
            yield f"{feature.name}: {got} has rank [{below}, {at_most}], not ~{feature.fraction}"
    elif isinstance(want, float) or isinstance(got, float):
        if not math.isclose(got, want, rel_tol=1e-9):
            yield f"{feature.name}: {got} != {want}"
    elif isinstance(want, list):
        if list(got or []) != want:
            yield f"{feature.name}: {got} != {want}"
    elif got != want:
        yield f"{feature.name}: {got!r} != {want!r}"


def compare(group: FeatureGroup, got: Rows, want: Rows) -> list[str]:
    """Every difference between Flink's rows and the reference's, one line each."""
    found = [f"missing {k}" for k in sorted(want.keys() - got.keys())]
    found += [f"unexpected {k}" for k in sorted(got.keys() - want.keys())]
    for key in sorted(want.keys() & got.keys()):
        for f in group.features:
            found += [f"{key} {p}" for p in problems(f, got[key][f.name], want[key][f.name])]
    return found
