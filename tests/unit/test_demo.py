"""The demo's story: each window printed once, every group of one user's vector shown."""

from __future__ import annotations

from typing import Any

from flink_jobs.demo import WindowCollector, entity_of, show_vector
from flink_jobs.features.catalogue import CATALOGUE, GAME_ENGAGEMENT, USER_TEAM_AFFINITY
from flink_jobs.topic_tail import Record

MINUTE = 60_000


def rows(window_end: int, *users: str) -> list[Record]:
    return [(user, {"window_end": window_end}) for user in users]


def test_a_window_split_over_polls_is_handed_out_once_whole() -> None:
    windows = WindowCollector()
    assert windows.add(rows(MINUTE, "u1", "u2")) == []  # more of it may follow
    assert windows.add(rows(MINUTE, "u3")) == []
    [(end, done)] = windows.add([])  # nothing more to read: complete
    assert end == MINUTE and [user for user, _ in done] == ["u1", "u2", "u3"]
    assert windows.add(rows(MINUTE, "u4")) == []  # a window is never shown twice
    assert windows.add([]) == []


def test_a_later_window_completes_the_earlier_ones() -> None:
    windows = WindowCollector()
    windows.add(rows(MINUTE, "u1"))
    done = windows.add(rows(2 * MINUTE, "u1") + rows(3 * MINUTE, "u2"))
    assert [end for end, _ in done] == [MINUTE, 2 * MINUTE]
    assert [end for end, _ in windows.add([])] == [3 * MINUTE]
    assert windows.shown == {MINUTE, 2 * MINUTE, 3 * MINUTE}


EVENTS: list[dict[str, Any]] = [
    {"user_id": "u1", "content_id": "c1", "game_id": None, "team_ids": ["t1", "t2"]},
    {"user_id": "u1", "content_id": "c2", "game_id": "g1", "team_ids": ["t2"]},
    {"user_id": "u1", "content_id": "c2", "game_id": "g1", "team_ids": []},
]


def test_the_entity_of_a_group_is_the_most_frequent_one() -> None:
    assert entity_of(USER_TEAM_AFFINITY, EVENTS) == "u1:t2"  # exploded team_ids
    assert entity_of(GAME_ENGAGEMENT, EVENTS) == "g1"  # events without a game do not count
    assert entity_of(GAME_ENGAGEMENT, EVENTS[:1]) is None


class FakeClient:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def get(self, group: str, version: int, entity_id: str) -> dict[str, Any]:
        self.asked.append((group, entity_id))
        if group == "user_session":
            return {"status": "missing"}
        return {
            "status": "fresh",
            "window_start": "2026-12-03T06:25:00Z",
            "age_ms": 1500,
            "features": {"count": 3},
        }


def test_the_vector_shows_every_group() -> None:
    client, lines = FakeClient(), list[str]()
    show_vector(client, "u1", EVENTS, lines.append)  # type: ignore[arg-type]
    assert {group for group, _ in client.asked} == {g.name for g in CATALOGUE}
    text = "\n".join(lines)
    assert "user_session" in text and "once it has closed, 30 min after its last event" in text
    assert "content_trending" in text and " c2 " in text and "count=3" in text
