"""The correctness cross-check: each system's rows for the shared features against the
reference (flink_jobs.verify.reference, plain Python) on the same events, for a sample of
entities and for the windows every system had certainly closed when it stopped.

`cutoff` is that bound: a window ending by the smallest event time the system had read
per partition, less the watermark bound and a margin for disorder, was closed by any
watermark (Flink) or partition clock (Quix) the system reached. Later windows may or may
not have been emitted and are not compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from flink_jobs.features.model import Feature, FeatureGroup
from flink_jobs.verify import reference
from flink_jobs.verify.compare import Rows, compare, problems
from flink_jobs.verify.reference import Event

MARGIN_MS = 30_000  # beyond the 5 s bound: disorder and partitions read at different speeds
Stored = Mapping[str, tuple[int, int, Mapping[str, Any]]]  # entity -> (start, end, values)


@dataclass(frozen=True)
class Verdict:
    system: str
    group: str
    windows: int  # reference windows compared
    problems: list[str]

    @property
    def ok(self) -> bool:
        return self.windows > 0 and not self.problems


def cutoff(event_times: Mapping[int, int], bound_ms: int, margin_ms: int = MARGIN_MS) -> int:
    """The latest window end every system had closed, from per-partition event times read."""
    return min(event_times.values()) - bound_ms - margin_ms


def expected(
    events: Iterable[Event], groups: tuple[FeatureGroup, ...], sampled: Any, until_ms: int
) -> dict[str, Rows]:
    """The reference's rows per group for sampled entities, windows ending by `until_ms`.

    The events are delivered within the watermark bound (none is late), so the batch
    reference gives exactly the windows a stream emits."""
    kept: dict[str, list[Event]] = {g.name: [] for g in groups}
    for event in events:
        if event["event_time"] > until_ms + MARGIN_MS:  # delivered past every compared window
            break
        for g in groups:
            if sampled(str(event[g.keys[0]])):
                kept[g.name].append(event)
    result = {}
    for g in groups:
        rows, _ = reference.compute(g, kept[g.name], streaming=False, ended=True)
        result[g.name] = {k: v for k, v in rows.items() if k[2] <= until_ms}
    return result


def check_rows(
    system: str,
    group: FeatureGroup,
    features: tuple[Feature, ...],
    got: Rows,
    want: Rows,
    until_ms: int,
    duplicates: int = 0,
) -> Verdict:
    """Every difference on `features` between the system's rows and the reference's."""
    compared = replace(group, features=features)
    found = compare(compared, {k: v for k, v in got.items() if k[2] <= until_ms}, want)
    if duplicates:
        found.append(f"{duplicates} windows written more than once")
    return Verdict(system, group.name, len(want), found)


def typed(text: str) -> int | float | str:
    """A value as the online store keeps it (text) back as a number where it is one."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def check_store(
    system: str,
    group: FeatureGroup,
    features: tuple[Feature, ...],
    stored: Stored,
    want: Rows,
) -> Verdict:
    """Each sampled entity's stored value is a window at least as new as its newest closed
    reference window, with the reference's values when it is one of those windows."""
    newest: dict[str, tuple[int, int]] = {}
    for entity, start, end in want:
        newest[entity] = max((start, end), newest.get(entity, (start, end)), key=lambda w: w[1])
    found = []
    for entity, (_, end) in sorted(newest.items()):
        if entity not in stored:
            found.append(f"{entity}: nothing stored, want the window ending {end}")
            continue
        s_start, s_end, values = stored[entity]
        if s_end < end:
            found.append(f"{entity}: stored window ends {s_end}, want {end} or later")
        elif (entity, s_start, s_end) in want:
            row = want[(entity, s_start, s_end)]
            for f in features:
                found += [f"{entity} {p}" for p in problems(f, values.get(f.name), row[f.name])]
    return Verdict(f"{system} (store)", group.name, len(newest), found)
