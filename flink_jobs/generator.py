"""A seeded, reproducible stream of fan interactions on a simulated clock.

Content popularity is Zipf-like (weight 1/rank), users are a long tail (weight 1/rank**0.7),
and a small share of events arrive out of order by up to `max_disorder_ms` (within the
job's watermark bound, so they still count).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

SPORTS = ("football", "basketball", "tennis", "baseball", "hockey", "cricket", "golf", "f1")
EVENT_TYPES = ("view", "play", "pause", "resume", "complete", "click", "like", "share")
EVENT_WEIGHTS = (30, 20, 8, 6, 6, 20, 6, 4)
PLAYBACK = {"pause", "complete", "resume"}


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int = 7
    users: int = 1000
    contents: int = 200
    start_ms: int = 0
    events_per_second: float = 50.0  # on the simulated clock
    out_of_order_share: float = 0.05
    max_disorder_ms: int = 3000


def interactions(cfg: GeneratorConfig) -> Iterator[dict[str, Any]]:
    """An endless stream of interaction events in (mostly) event-time order."""
    rng = random.Random(cfg.seed)  # noqa: S311 - reproducible test data, not secrets
    user_weights = list(accumulate(1 / (rank + 1) ** 0.7 for rank in range(cfg.users)))
    content_weights = list(accumulate(1 / (rank + 1) for rank in range(cfg.contents)))
    content_sport = [SPORTS[rng.randrange(len(SPORTS))] for _ in range(cfg.contents)]
    seq: dict[int, int] = {}
    clock = float(cfg.start_ms)
    while True:
        clock += rng.expovariate(cfg.events_per_second) * 1000
        event_time = int(clock)
        if rng.random() < cfg.out_of_order_share:
            event_time -= rng.randint(1, cfg.max_disorder_ms)
        user = rng.choices(range(cfg.users), cum_weights=user_weights)[0]
        content = rng.choices(range(cfg.contents), cum_weights=content_weights)[0]
        event_type = rng.choices(EVENT_TYPES, weights=EVENT_WEIGHTS)[0]
        seq[user] = seq.get(user, 0) + 1
        sport = content_sport[content]
        yield {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "user_id": f"u{user:07d}",
            "seq": seq[user],
            "session_id": f"s{user:07d}-{int(clock) // 1_800_000}",
            "content_id": f"c{content:06d}",
            "content_type": "video",
            "sport": sport,
            "league": f"{sport}_league",
            "team_ids": [f"{sport}_team_{content % 20}"],
            "game_id": None,
            "event_type": event_type,
            "watch_time_ms": rng.randint(1_000, 120_000) if event_type in PLAYBACK else 0,
            "position_ms": rng.randint(0, 3_600_000),
            "device": "web",
            "app_surface": "home",
            "event_time": event_time,
        }
