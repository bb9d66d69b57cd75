"""The simulated world: sports, leagues, teams, players, contents, and seeded samplers.

Nothing here is per user: the user base is only a Zipf sampler over user ranks, so millions
of users cost no memory up front (their state is created lazily in `fans`).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import count
from typing import NamedTuple

TEAMS_PER_LEAGUE = 20
PLAYERS_PER_TEAM = 25


def seeded(seed: int | str) -> random.Random:
    """A reproducible RNG (test data, not secrets)."""
    return random.Random(seed)  # noqa: S311


@dataclass(frozen=True)
class Sport:
    """How a sport's games run: periods of `period_s` seconds with `break_s` between them."""

    name: str
    leagues: tuple[str, ...]
    periods: int = 0  # 0: no head-to-head games (golf, f1): content only
    period_s: int = 0
    break_s: int = 0
    points: tuple[int, ...] = (1,)  # what one score change adds, drawn uniformly
    scores_per_period: float = 1.0


SPORTS = (
    Sport("football", ("premier_league", "la_liga", "bundesliga"), 2, 2700, 900, (1,), 1.4),
    Sport("basketball", ("nba", "euroleague"), 4, 720, 120, (1, 2, 2, 2, 3, 3), 22.0),
    Sport("hockey", ("nhl",), 3, 1200, 1020, (1,), 2.0),
    Sport("tennis", ("atp", "wta"), 3, 2400, 120, (1,), 10.0),
    Sport("baseball", ("mlb",), 9, 1200, 30, (1, 1, 1, 2, 3, 4), 0.8),
    Sport("cricket", ("ipl",), 2, 5400, 900, (1, 1, 1, 2, 4, 6), 40.0),
    Sport("golf", ("pga_tour",)),
    Sport("f1", ("formula_1",)),
)
GAME_SPORTS = tuple(s for s in SPORTS if s.periods)

DEVICES = {"ios": 34, "android": 38, "web": 14, "tv": 10, "console": 4}
SEARCHES = (
    "Atlético  Madrid", " Real Madrid highlights ", "Bayern München", "Paris Saint-Germain",
    "Mbappé goals", "Champions League", "NBA  Finals", "lakers score", "Curry 3 pointers",
    "Djoković", "Wimbledon live", "Stanley Cup", "Ohtani home run", "Premier League table",
    "Verstappen", "Pérez pit stop", "IPL  final", "Virat Kohli", "Müller", "Tour de France",
)  # fmt: skip


def normalize_query(text: str) -> str:
    """Lower-case, trimmed, single spaces, accents removed (the fan.signals contract)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().split())


QUERIES = tuple(normalize_query(q) for q in SEARCHES)


def table(weights: dict[str, int]) -> tuple[str, ...]:
    """Each key repeated by its weight: `t[int(random() * len(t))]` is a weighted draw."""
    return tuple(key for key, weight in weights.items() for _ in range(weight))


@cache
def team_ids(league: str) -> tuple[str, ...]:
    return tuple(f"{league}_t{n:02d}" for n in range(TEAMS_PER_LEAGUE))


def player_id(team: str, number: int) -> str:
    return f"{team}_p{number % PLAYERS_PER_TEAM:02d}"


def zipf(n: int, exponent: float) -> Callable[[float], int]:
    """Rank 0..n-1 with weight (rank + 1) ** -exponent for a uniform draw in [0, 1).

    Inverts the continuous approximation of the CDF: one power per draw, no tables, so n
    can be millions.
    """
    last = n - 1
    if exponent == 1.0:
        top = float(n + 1)

        def log_rank(u: float) -> int:
            rank = int(top**u) - 1
            return rank if rank < last else last

        return log_rank
    base, power = (n + 1) ** (1 - exponent) - 1.0, 1.0 / (1 - exponent)

    def power_rank(u: float) -> int:
        rank = int((1.0 + u * base) ** power) - 1
        return rank if rank < last else last

    return power_rank


class Content(NamedTuple):
    """A piece of content: immutable, so every event about it can share its values."""

    content_id: str
    content_type: str  # video, clip, article, live_stream
    sport: str
    league: str
    team_ids: tuple[str, ...]
    game_id: str | None
    duration_ms: int  # 0 for articles


def catalog(rng: random.Random, size: int) -> list[Content]:
    """`size` contents, index = popularity rank; sports weighted towards football/basketball."""
    sports = table({s.name: w for s, w in zip(SPORTS, (30, 20, 8, 10, 8, 8, 4, 6), strict=True)})
    by_name = {s.name: s for s in SPORTS}
    kinds = table({"video": 50, "clip": 35, "article": 15})
    items = []
    for index in range(size):
        sport = by_name[rng.choice(sports)]
        league = rng.choice(sport.leagues)
        teams = team_ids(league)
        kind = rng.choice(kinds)
        about = tuple(rng.sample(teams, rng.choice((0, 1, 2, 2)))) if sport.periods else ()
        if kind == "video":
            duration = 60_000 * rng.randint(2, 20)
        else:
            duration = 1000 * rng.randint(15, 120) if kind == "clip" else 0
        items.append(Content(f"c{index:06d}", kind, sport.name, league, about, None, duration))
    return items


_LOW_HEX = tuple(f"{low:04x}" for low in range(1 << 16))


def uuid_ids(rng: random.Random) -> Iterator[str]:
    """Seeded UUID-text ids: a random version-4 prefix, then a 12-hex-digit counter from 0.

    Much cheaper than uuid4 per event; unique within a stream, reproducible per seed.
    """
    a, b, c, d = rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(14)
    prefix = f"{a:08x}-{b:04x}-4{c:03x}-{0x8000 | d:04x}-"
    for high in count():
        block = f"{prefix}{high:08x}"
        for low in _LOW_HEX:
            yield block + low
