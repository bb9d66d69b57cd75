"""Engine v2's tiles checked against the reference: the tiles of a group, merged on read at
many request times (tile edges and the milliseconds beside them, event times, random
instants), must serve what flink_jobs/verify/served.py says, sketches within their bounds."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from flink_jobs.features.model import FeatureGroup
from flink_jobs.tiles import merge
from flink_jobs.tiles.layout import tile_ms
from flink_jobs.verify import served
from flink_jobs.verify.compare import problems

Tiles = dict[str, dict[str, dict[int, dict[str, Any]]]]  # group -> entity -> start -> tile


def request_times(group: FeatureGroup, events: list[dict[str, Any]]) -> list[int]:
    times = [int(e["event_time"]) for e in events]
    lo, hi, size = min(times), max(times), tile_ms(group.window)
    boundaries = range(lo - lo % size, hi + 2 * size, size)
    edges = [b + d for b in boundaries for d in (-1, 0, 1)]
    rng = random.Random(group.name)
    return sorted({*edges, *rng.sample(times, 40), *(rng.randrange(lo, hi) for _ in range(40))})


Answers = Callable[[int], dict[str, dict[str, Any] | None]]  # t -> entity -> values or None


def mismatches(
    group: FeatureGroup,
    by_entity: dict[str, dict[int, dict[str, Any]]],
    events: list[dict[str, Any]],
    times: list[int] | None = None,
) -> tuple[int, list[str]]:
    """(non-empty reads checked, what differed) of `by_entity`'s tiles merged on read at
    `times` (default: `request_times` of the events), for an event log with nothing late."""

    def merged(t: int) -> dict[str, dict[str, Any] | None]:
        return {
            entity: merge.values(group, tiles.values(), t)
            if merge.select(group, tiles.values(), t)
            else None
            for entity, tiles in by_entity.items()
        }

    return served_mismatches(group, merged, events, times)


def served_mismatches(
    group: FeatureGroup,
    answers: Answers,
    events: list[dict[str, Any]],
    times: list[int] | None = None,
) -> tuple[int, list[str]]:
    """(non-empty reads checked, what differed) of what `answers` serves at `times` (default:
    `request_times` of the events) against the reference, for a log with nothing late."""
    checked, failures = 0, []
    for t in request_times(group, events) if times is None else times:
        result = served.serve(group, events, t)
        assert not result.late, "the log's disorder stays within the bound: nothing is late"
        got_by_entity = answers(t)
        for entity in got_by_entity.keys() | result.values.keys():
            got, want = got_by_entity.get(entity), result.values.get(entity)
            if want is None or got is None:
                if want is not got:
                    failures.append(f"t={t} {entity}: {got} where {want} should be")
                continue
            checked += 1
            failures += [
                f"t={t} {entity}: {p}"
                for f in group.features
                for p in problems(f, got[f.name], want[f.name])
            ]
    return checked, failures
