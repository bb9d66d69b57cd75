"""The ground truth: fan activity, game feeds and viewing bursts merged in event-time order.

Fan activity is a Poisson process at the base rate (optionally shaped by a diurnal curve);
live games add viewing of their own on top: a little while they run, and a burst after
each score change or highlight that decays exponentially. Rates are re-computed once per
simulated second.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from itertools import islice

from flink_jobs.generator.config import GAME_EVENTS, Delivery, Event, GeneratorConfig
from flink_jobs.generator.fans import Fans
from flink_jobs.generator.games import Game, play, schedule
from flink_jobs.generator.world import catalog, seeded, uuid_ids

TICK_MS = 1000
BURST_DECAY_MS = 60_000  # time constant of a burst's exponential decay
LIVE_SHARE = 0.02  # viewing of each running game, as a share of the base rate
HOUR_MS = 3_600_000
# Relative activity per UTC hour: quiet at night, peaking in the evening.
_HOURLY = (0.35, 0.25, 0.2, 0.18, 0.2, 0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 1.0,
           1.1, 1.05, 1.0, 1.05, 1.15, 1.3, 1.6, 1.9, 2.0, 1.8, 1.3, 0.7)  # fmt: skip
DIURNAL = tuple(h * len(_HOURLY) / sum(_HOURLY) for h in _HOURLY)  # mean 1


def diurnal(time_ms: float) -> float:
    """The rate factor at a time of day (UTC), interpolated between hours; averages 1."""
    hour, fraction = divmod(time_ms % (24 * HOUR_MS) / HOUR_MS, 1.0)
    now, later = DIURNAL[int(hour)], DIURNAL[(int(hour) + 1) % 24]
    return now + (later - now) * fraction


def truth(cfg: GeneratorConfig) -> Iterator[Delivery]:
    """Every event of every topic once, in event-time order, ending per count/duration.

    Shaped like deliveries (the fault is always None), so a stream without faults needs no
    second pass.
    """
    stream = _merged(cfg)
    return stream if cfg.count is None else islice(stream, cfg.count)


def _merged(cfg: GeneratorConfig) -> Iterator[Delivery]:
    rng = seeded(cfg.seed)
    ids = uuid_ids(rng)
    fans = Fans(cfg, rng, catalog(rng, cfg.contents), ids)
    games = schedule(rng, cfg.games, cfg.start_ms, cfg.game_interval_ms)
    feeds: list[tuple[int, int, Event, Iterator[Event]]] = []
    for index, game in enumerate(games):
        feed = play(game, seeded(f"{cfg.seed}-game-{index}"), ids)
        first = next(feed)
        feeds.append((first["event_time"], index, first, feed))
    heapq.heapify(feeds)
    next_feed = feeds[0][0] if feeds else math.inf
    rates = _Rates(cfg, games)
    end = math.inf if cfg.duration_ms is None else cfg.start_ms + cfg.duration_ms
    random, log, interaction = rng.random, math.log, fans.interaction
    time = float(cfg.start_ms)
    gap_ms, next_tick, game_share, signal_below = rates.tick(time)
    while True:
        time += -log(1.0 - random()) * gap_ms
        if time >= next_tick:
            gap_ms, next_tick, game_share, signal_below = rates.tick(time)
        now = int(time)
        if now >= next_feed:
            while feeds and feeds[0][0] <= now and feeds[0][0] < end:
                _, index, event, feed = feeds[0]
                yield GAME_EVENTS, event["game_id"], event, None
                games[index].happened(event)
                rates.on_game_event(index, event["kind"])
                following = next(feed, None)
                if following is None:
                    heapq.heappop(feeds)
                else:
                    heapq.heapreplace(feeds, (following["event_time"], index, following, feed))
            next_feed = feeds[0][0] if feeds else math.inf
        if now >= end:
            return
        u = random()
        if u >= signal_below:
            yield interaction(now)
        elif u < game_share:
            yield interaction(now, rates.game(random()))
        else:
            yield fans.signal(now)


class _Rates:
    """Base rate, diurnal factor, running games and bursts, refreshed once per TICK_MS."""

    def __init__(self, cfg: GeneratorConfig, games: list[Game]) -> None:
        self._cfg = cfg
        self._games = games
        self._live: set[int] = set()
        self._burst: dict[int, float] = {}  # game index -> extra viewing events/s
        self._weights: list[tuple[Game, float]] = []
        self._viewing = 0.0
        self._last_tick = float(cfg.start_ms)

    def on_game_event(self, index: int, kind: str) -> None:
        # A rare goal moves fans more than one basket of a hundred: scale by scores per period.
        sport = self._games[index].sport
        boost = self._cfg.burst_share * self._cfg.events_per_second / sport.scores_per_period
        if kind == "start":
            self._live.add(index)
        elif kind == "final":
            self._live.discard(index)
        elif kind == "score_change":
            self._burst[index] = self._burst.get(index, 0.0) + boost
        elif kind == "highlight":
            self._burst[index] = self._burst.get(index, 0.0) + boost / 2

    def tick(self, time: float) -> tuple[float, float, float, float]:
        """Mean gap (ms), next tick, share of game viewing, share of it plus signals."""
        cfg = self._cfg
        decay = math.exp(-(time - self._last_tick) / BURST_DECAY_MS)
        base = cfg.events_per_second
        for index, level in list(self._burst.items()):
            if level * decay < 1e-3 * base:
                del self._burst[index]
            else:
                self._burst[index] = level * decay
        live = base * LIVE_SHARE
        weights = {i: live for i in self._live}
        for index, level in self._burst.items():
            weights[index] = weights.get(index, 0.0) + level
        self._weights = [(self._games[i], w) for i, w in sorted(weights.items())]
        self._viewing = sum(weights.values())
        activity = base * (diurnal(time) if cfg.diurnal else 1.0)
        total = activity + self._viewing
        self._last_tick = time
        game_share = self._viewing / total
        signal_below = game_share + cfg.signal_share * activity / total
        return 1000 / total, (time // TICK_MS + 1) * TICK_MS, game_share, signal_below

    def game(self, u: float) -> Game:
        """A running or bursting game, drawn by its share of the viewing."""
        left = u * self._viewing
        for game, weight in self._weights:
            left -= weight
            if left < 0:
                return game
        return self._weights[-1][0]
