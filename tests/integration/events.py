"""Hand-written events for timeline tests: every field set, only what matters varies."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple

from flink_jobs.features.catalogue import USER_ACTIVITY
from flink_jobs.verify import reference

MINUTE = 60_000
DELAY_MS = 5_000  # the job's watermark delay in these tests


def event(user: str, t0: int, at_s: float, kind: str = "view", watch_ms: int = 0) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "user_id": user,
        "seq": 1,
        "session_id": f"session-{user}",
        "content_id": "c1",
        "content_type": "video",
        "sport": "football",
        "league": "premier_league",
        "team_ids": ["arsenal", "chelsea"],
        "game_id": None,
        "event_type": kind,
        "watch_time_ms": watch_ms,
        "position_ms": 0,
        "device": "ios",
        "app_surface": "home",
        "event_time": t0 + int(at_s * 1000),
    }


class WindowValue(NamedTuple):
    """user_activity's features for one user and minute."""

    interactions: int
    watch_ms: int


def user_activity(
    events: list[dict[str, Any]],
) -> tuple[dict[tuple[str, int], WindowValue], list[Mapping[str, Any]]]:
    """The reference's user_activity windows by (user, window end), and the late events."""
    rows, late = reference.compute(USER_ACTIVITY, events)
    windows = {
        (user, end): WindowValue(v["user_interactions_count_1m"], v["user_watch_ms_sum_1m"])
        for (user, _, end), v in rows.items()
    }
    return windows, [row for _, row in late]
