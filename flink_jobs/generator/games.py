"""Live games: a schedule, and each game's feed (live.game-events) with consistent scores.

Periods start at clock 0 and end at the period length; scores only grow; a highlight
(often right after a score change) also becomes a clip fans can watch.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from flink_jobs.generator.config import Event
from flink_jobs.generator.world import GAME_SPORTS, Content, Sport, team_ids

HIGHLIGHT_AFTER_SCORE = 0.5  # chance that a score change gets its own highlight
HIGHLIGHT_DELAY_MS = 15_000
HIGHLIGHTS_PER_PERIOD = 1.0  # besides those after score changes


@dataclass
class Game:
    game_id: str
    sport: Sport
    league: str
    home: str
    away: str
    start_ms: int
    stream: Content  # the live stream of the game
    highlights: list[Content] = field(default_factory=list)  # clips, once they happened

    def happened(self, event: Event) -> None:
        """Take note of a feed event as it is delivered: a highlight becomes a clip."""
        if event["kind"] == "highlight":
            self.highlights.append(
                self.stream._replace(
                    content_id=f"{self.game_id}-h{len(self.highlights):03d}",
                    content_type="clip",
                    duration_ms=1000 * (20 + event["seq"] * 37 % 71),  # 20 to 90 s
                )
            )


def length_ms(sport: Sport) -> int:
    """From start to final: every period and the breaks between them."""
    return 1000 * (sport.periods * sport.period_s + (sport.periods - 1) * sport.break_s)


def schedule(rng: random.Random, games: int, start_ms: int, interval_ms: int) -> list[Game]:
    """`games` games, the i-th starting at start_ms + i * interval_ms."""
    scheduled = []
    for index in range(games):
        sport = rng.choice(GAME_SPORTS)
        league = rng.choice(sport.leagues)
        home, away = rng.sample(team_ids(league), 2)
        game_id = f"{league}-g{index:05d}"
        stream = Content(f"live-{game_id}", "live_stream", sport.name, league, (home, away),
                         game_id, length_ms(sport))  # fmt: skip
        scheduled.append(
            Game(game_id, sport, league, home, away, start_ms + index * interval_ms, stream)
        )
    return scheduled


def play(game: Game, rng: random.Random, ids: Iterator[str]) -> Iterator[Event]:
    """The game's feed in time order: start, periods, score changes, highlights, final.

    Feed events are made one ahead of delivery: what fans can see of the game (its
    highlights) changes only in `Game.happened`, when an event is delivered.
    """
    sport = game.sport
    period_ms = sport.period_s * 1000
    score_rate = sport.scores_per_period / period_ms
    rate = score_rate + HIGHLIGHTS_PER_PERIOD / period_ms
    seq = 0
    score = [0, 0]

    def event(kind: str, time: int, period: int, clock_s: int) -> Event:
        nonlocal seq
        seq += 1
        return {
            "event_id": next(ids), "game_id": game.game_id, "seq": seq, "sport": sport.name,
            "league": game.league, "home_team_id": game.home, "away_team_id": game.away,
            "kind": kind, "home_score": score[0], "away_score": score[1], "period": period,
            "clock_s": clock_s, "event_time": time,
        }  # fmt: skip

    time = game.start_ms
    yield event("start", time, 1, 0)
    for period in range(1, sport.periods + 1):
        if period > 1:
            time += sport.break_s * 1000
        start, end = time, time + period_ms
        yield event("period_start", time, period, 0)
        while (time := time + 1 + int(rng.expovariate(rate))) < end:
            if rng.random() * rate >= score_rate:
                yield event("highlight", time, period, (time - start) // 1000)
                continue
            score[0 if rng.random() < 0.5 else 1] += rng.choice(sport.points)
            yield event("score_change", time, period, (time - start) // 1000)
            if rng.random() < HIGHLIGHT_AFTER_SCORE and time + HIGHLIGHT_DELAY_MS < end:
                time += HIGHLIGHT_DELAY_MS
                yield event("highlight", time, period, (time - start) // 1000)
        time = end
        yield event("period_end", time, period, sport.period_s)
    yield event("final", time, sport.periods, sport.period_s)
