"""Engine v2's tiles checked against the reference: the tiles of a group, merged on read at
many request times (tile edges and the milliseconds beside them, event times, random
instants), must serve what flink_jobs/verify/served.py says, sketches within their bounds."""

from __future__ import annotations

import random
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


def mismatches(
    group: FeatureGroup,
    by_entity: dict[str, dict[int, dict[str, Any]]],
    events: list[dict[str, Any]],
    times: list[int] | None = None,
) -> tuple[int, list[str]]:
    """(non-empty reads checked, what differed) at `times` (default: `request_times` of the
    events), for an event log with nothing late."""
    checked, failures = 0, []
    for t in request_times(group, events) if times is None else times:
        result = served.serve(group, events, t)
        assert not result.late, "the log's disorder stays within the bound: nothing is late"
        for entity in by_entity.keys() | result.values.keys():
            tiles = by_entity.get(entity, {}).values()
            want = result.values.get(entity)
            if want is None:
                if selected := merge.select(group, tiles, t):
                    failures.append(f"t={t} {entity}: tiles {selected} where none should be")
                continue
            checked += 1
            got = merge.values(group, tiles, t)
            failures += [
                f"t={t} {entity}: {p}"
                for f in group.features
                for p in problems(f, got[f.name], want[f.name])
            ]
    return checked, failures
