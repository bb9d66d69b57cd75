"""An independent reference for tumbling-window features: plain Python, no Flink.

It follows the event-time semantics the job promises: a bounded-out-of-orderness watermark
(`max event time seen - delay`); a window [start, end) is emitted once the watermark
reaches end - 1; an event whose window was already emitted is late and not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WindowKey = tuple[str, int]  # (user id, window end in ms)


@dataclass(frozen=True)
class WindowValue:
    count: int
    watch_ms: int


def tumbling_user_activity(
    events: Iterable[Mapping[str, Any]], window_ms: int, delay_ms: int
) -> tuple[dict[WindowKey, WindowValue], list[Mapping[str, Any]]]:
    """(emitted windows, late events) for events in arrival order on one partition."""
    open_windows: dict[WindowKey, WindowValue] = {}
    emitted: dict[WindowKey, WindowValue] = {}
    late: list[Mapping[str, Any]] = []
    watermark = -(2**63)
    for event in events:
        time = int(event["event_time"])
        end = time - time % window_ms + window_ms
        if end - 1 <= watermark:
            late.append(event)
            continue
        key = (str(event["user_id"]), end)
        old = open_windows.get(key, WindowValue(0, 0))
        open_windows[key] = WindowValue(old.count + 1, old.watch_ms + int(event["watch_time_ms"]))
        watermark = max(watermark, time - delay_ms)
        for closed in [k for k in open_windows if k[1] - 1 <= watermark]:
            emitted[closed] = open_windows.pop(closed)
    return emitted, late
