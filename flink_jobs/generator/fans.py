"""The fans: who acts (a Zipf long tail over users), in which session, on what, on which device.

Per-user state (sequence numbers, session, what is playing, follows, the last notification)
is created on a user's first event, so millions of users cost no memory up front.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from flink_jobs.generator.config import INTERACTIONS, SIGNALS, Delivery, GeneratorConfig
from flink_jobs.generator.games import Game
from flink_jobs.generator.world import (
    DEVICES,
    GAME_SPORTS,
    QUERIES,
    Content,
    player_id,
    table,
    team_ids,
    uuid_ids,
    zipf,
)

SESSION_GAP_MS = 30 * 60_000  # a session ends after 30 minutes without interactions
STAY = 0.75  # chance that a fan's next interaction is about the content they are on
USER_EXPONENT = 0.7  # long tail of users: weight (rank + 1) ** -0.7
CONTENT_EXPONENT = 1.0  # content popularity: weight 1 / (rank + 1)
HIGHLIGHT_VIEWS = 0.3  # of game viewing, once a game has highlights

EVENT_TYPES = ("view", "play", "pause", "resume", "complete", "click", "like", "share")
OPEN = table({"view": 70, "click": 30})
PLAYING = table({"pause": 55, "like": 25, "share": 10, "click": 10})
STOPPED = table({"play": 70, "like": 15, "share": 5, "click": 10})  # play: resume mid-way
ARTICLE = table({"view": 10, "like": 40, "share": 25, "click": 25})
SURFACES = table({"home": 40, "search": 10, "game_center": 10, "team_page": 15, "player": 20,
                  "notification": 5})  # fmt: skip
GAME_SURFACES = table({"game_center": 60, "notification": 25, "home": 15})
DEVICE_OF = table(DEVICES)  # a user's device: DEVICE_OF[user % len]
SIGNAL_KINDS = table({"follow_team": 20, "unfollow_team": 5, "follow_player": 12,
                      "unfollow_player": 3, "notification_sent": 25, "notification_opened": 10,
                      "search": 25})  # fmt: skip
OPEN_N, PLAYING_N, STOPPED_N, ARTICLE_N = len(OPEN), len(PLAYING), len(STOPPED), len(ARTICLE)
SURFACES_N, GAME_SURFACES_N, DEVICE_OF_N = len(SURFACES), len(GAME_SURFACES), len(DEVICE_OF)
TEAMS = tuple(team for s in GAME_SPORTS for league in s.leagues for team in team_ids(league))


class Fans:
    """Interactions and signals of a seeded user base, one event per call, in time order."""

    def __init__(self, cfg: GeneratorConfig, rng: random.Random, contents: list[Content],
                 ids: Iterator[str]) -> None:  # fmt: skip
        self._random = rng.random
        self._user = zipf(cfg.users, USER_EXPONENT)
        self._contents = list(contents)  # catalog by rank, then game contents as they are seen
        self._index: dict[str, int] = {}  # content id -> index, of game contents
        self._content = zipf(len(contents), CONTENT_EXPONENT)
        self._team = zipf(len(TEAMS), 0.8)
        self._query = zipf(len(QUERIES), 1.0)
        self._ids = ids
        self._sessions = uuid_ids(rng)
        self._notifications = 0
        # user -> seq, last event time, session, user id, content on (index, -1: none), its
        # position, playing: ints and strings only, so the garbage collector can ignore them
        self._state: dict[int, tuple[int, int, str, str, int, int, bool]] = {}
        self._signal_seq: dict[int, int] = {}
        self._follows: dict[int, tuple[str, ...]] = {}
        self._notified: dict[int, str] = {}

    def interaction(self, time: int, game: Game | None = None) -> Delivery:
        """One interaction at `time`; with a game: viewing its live stream or a highlight."""
        random = self._random
        user = self._user(random())
        state = self._state.get(user)
        if state is None:
            seq, last, user_id, on = 1, time, f"u{user:07d}", -1
            session = next(self._sessions)
        else:
            seq, last, session, user_id, on, position, playing = state
            seq += 1
            if time - last > SESSION_GAP_MS:
                session, on = next(self._sessions), -1
        watch = 0
        if on >= 0 and game is None and random() < STAY:
            content = self._contents[on]
            duration = content[6]
            if not duration:
                kind = ARTICLE[int(random() * ARTICLE_N)]
            elif playing:
                watch = time - last
                if position + watch >= duration:
                    watch, position, kind = duration - position, duration, "complete"
                else:
                    position += watch
                    kind = PLAYING[int(random() * PLAYING_N)]
                playing = kind != "pause" and kind != "complete"
            else:
                kind = STOPPED[int(random() * STOPPED_N)]
                if kind == "play":
                    playing = True
                    if position:
                        kind = "resume"
            surface = SURFACES[int(random() * SURFACES_N)]
        else:
            playing, position = False, 0
            kind = OPEN[int(random() * OPEN_N)]
            if game is None:
                on = self._content(random())
                content = self._contents[on]
                surface = SURFACES[int(random() * SURFACES_N)]
            else:
                content = game.stream
                if game.highlights and random() < HIGHLIGHT_VIEWS:
                    content = game.highlights[-1]
                elif time > game.start_ms:
                    position = min(time - game.start_ms, content.duration_ms)
                on = self._index_of(content)
                surface = GAME_SURFACES[int(random() * GAME_SURFACES_N)]
        self._state[user] = (
            seq, time, session, user_id, -1 if kind == "complete" else on, position, playing
        )  # fmt: skip
        content_id, content_type, sport, league, teams, game_id, _ = content
        return INTERACTIONS, user_id, {
            "event_id": next(self._ids), "user_id": user_id, "seq": seq, "session_id": session,
            "content_id": content_id, "content_type": content_type, "sport": sport,
            "league": league, "team_ids": teams, "game_id": game_id, "event_type": kind,
            "watch_time_ms": watch, "position_ms": position,
            "device": DEVICE_OF[user % DEVICE_OF_N], "app_surface": surface, "event_time": time,
        }, None  # fmt: skip

    def _index_of(self, content: Content) -> int:
        index = self._index.get(content.content_id)
        if index is None:
            index = self._index[content.content_id] = len(self._contents)
            self._contents.append(content)
        return index

    def signal(self, time: int) -> Delivery:
        """One fan signal at `time`: follows stay consistent, opened notifications were sent."""
        random = self._random
        user = self._user(random())
        seq = self._signal_seq[user] = self._signal_seq.get(user, 0) + 1
        kind = SIGNAL_KINDS[int(random() * len(SIGNAL_KINDS))]
        target: str | None = None
        query: str | None = None
        if kind == "search":
            query = QUERIES[self._query(random())]
        elif kind.startswith("notification"):
            target = self._notified.pop(user, None)
            if target is None or kind == "notification_sent":
                self._notifications += 1
                kind, target = "notification_sent", f"n{self._notifications:09d}"
                self._notified[user] = target
        else:
            kind, target = self._follow(user, kind)
        user_id = f"u{user:07d}"
        return SIGNALS, user_id, {
            "event_id": next(self._ids), "user_id": user_id, "seq": seq, "signal": kind,
            "target_id": target, "query": query, "device": DEVICE_OF[user % DEVICE_OF_N],
            "event_time": time,
        }, None  # fmt: skip

    def _follow(self, user: int, kind: str) -> tuple[str, str]:
        """Unfollow only what is followed, follow only what is not."""
        random = self._random
        follows = self._follows.get(user, ())
        noun = kind.rsplit("_", 1)[1]
        followed = [t for t in follows if (t[-3] == "p") == (noun == "player")]
        if kind.startswith("unfollow") and followed:
            target = followed[int(random() * len(followed))]
        else:
            target = TEAMS[self._team(random())]
            if noun == "player":
                target = player_id(target, int(random() * 1000))
        if target in follows:
            self._follows[user] = tuple(t for t in follows if t != target)
            return f"unfollow_{noun}", target
        self._follows[user] = (*follows, target)
        return f"follow_{noun}", target
