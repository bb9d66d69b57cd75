"""Synthetic event logs of fan.interactions with controlled disorder, duplicates and gaps.

Deterministic for a seed: fans browse in sessions separated by long pauses (so session
windows close), events arrive shuffled within `disorder_ms` of their event time, and a
share of them is delivered twice (same event id, as a producer retry would).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EVENT_TYPES = ("view", "play", "pause", "resume", "complete", "click", "like", "share")
SPORTS = {
    "football": ("premier_league", "laliga"),
    "basketball": ("nba", "euroleague"),
    "tennis": ("atp", ""),
}
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class LogShape:
    users: int = 12
    contents: int = 20
    sessions_per_user: int = 4
    events_per_session: int = 25
    disorder_ms: int = 4_000
    duplicate_share: float = 0.05
    span_ms: int = 3 * 3_600_000


def _content(rng: random.Random, i: int) -> dict[str, Any]:
    sport = sorted(SPORTS)[i % len(SPORTS)]
    league = SPORTS[sport][i % 2]
    teams = [f"{sport[:3]}_t{(i * 7 + j) % 9}" for j in range(i % 3)]
    live = i % 4 == 0
    return {
        "content_id": f"c{i:03d}",
        "content_type": "live_stream" if live else rng.choice(("video", "clip", "article")),
        "sport": sport,
        "league": league,
        "team_ids": teams,
        "game_id": f"g{i % 3}" if live else None,
    }


def build(seed: int = 7, shape: LogShape = LogShape()) -> list[dict[str, Any]]:
    """Events in arrival order; `event_time` in ms since the epoch."""
    rng = random.Random(seed)
    contents = [_content(rng, i) for i in range(shape.contents)]
    events: list[dict[str, Any]] = []
    for u in range(shape.users):
        user, seq = f"u{u:03d}", 0
        t = START_MS + rng.randrange(0, 600_000)
        for _ in range(shape.sessions_per_user):
            session = str(uuid.UUID(int=rng.getrandbits(128)))
            for _ in range(shape.events_per_session):
                t += rng.randrange(500, 90_000)
                seq += 1
                kind = rng.choice(EVENT_TYPES)
                playback = kind in ("pause", "complete", "resume")
                events.append(
                    {
                        "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
                        "user_id": user,
                        "seq": seq,
                        "session_id": session,
                        **rng.choice(contents),
                        "event_type": kind,
                        "watch_time_ms": rng.randrange(1, 60_000) if playback else 0,
                        "position_ms": rng.randrange(0, 3_000_000),
                        "device": rng.choice(("ios", "android", "web", "tv", "console")),
                        "app_surface": rng.choice(("home", "search", "game_center", "team_page")),
                        "event_time": t,
                    }
                )
            t += rng.randrange(31 * 60_000, 50 * 60_000)  # a pause that closes the session
    events.sort(key=lambda e: e["event_time"] + rng.randrange(0, shape.disorder_ms))
    arrivals: list[dict[str, Any]] = []
    for event in events:
        arrivals.append(event)
        if rng.random() < shape.duplicate_share:
            arrivals.append(dict(event))
    return arrivals


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def write_json_lines(events: list[dict[str, Any]], path: Path) -> Path:
    """The log as the file source reads it (`event_time` as SQL timestamp text, UTC)."""
    with path.open("w") as out:
        for event in events:
            out.write(json.dumps({**event, "event_time": iso(event["event_time"])}) + "\n")
    return path
