"""When the freshness watch says a row could first be seen, and what it times from there."""

from __future__ import annotations

from typing import Any

from benchmarks.freshness import TileWatch, Visibility, Watch, project_visibility
from flink_jobs.features.catalogue import USER_ACTIVITY, USER_TEAM_AFFINITY

MIN_MS = 60_000


def visibility(rows: dict[bytes, dict[str, Any]], stored: Any = None) -> Visibility:
    topics = {"features.user_activity": "user_activity", "features.affinity": "affinity"}
    return Visibility(topics, rows.__getitem__, stored, {"features.affinity": MIN_MS})


def test_a_window_closes_at_its_end_a_lifetime_row_at_its_tiles_end() -> None:
    v = visibility({})
    assert v.closes("features.user_activity", 5 * MIN_MS) == 5 * MIN_MS
    assert v.closes("features.affinity", 5 * MIN_MS + 1) == 6 * MIN_MS  # its tile's end
    assert v.closes("features.affinity", 5 * MIN_MS) == 6 * MIN_MS  # tiles are [start, end)


def test_the_projects_lifetime_groups_are_timed_from_their_tiles() -> None:
    groups = {"t.activity": USER_ACTIVITY, "t.affinity": USER_TEAM_AFFINITY}
    v = project_visibility(groups, "http://127.0.0.1:1")  # no call until a row is decoded
    assert v.topics == {"t.activity": "user_activity", "t.affinity": "user_team_affinity"}
    assert v.tiles == {"t.affinity": MIN_MS}


def test_rows_are_timed_per_group_from_their_close_and_kafka_only_systems_skip_redis() -> None:
    rows = {b"a": {"window_end": 10 * MIN_MS}, b"b": {"window_end": 10 * MIN_MS + 30_000}}
    watch = Watch("job", "127.0.0.1:1", "redis://127.0.0.1:1", visibility(rows), bool, 5_000)
    watch._received("features.user_activity", "u1", b"a")
    watch._received("features.affinity", "u1", b"b")
    assert set(watch.kafka_by_group) == {"user_activity", "affinity"}
    (activity,), (affinity,) = (
        watch.kafka_by_group["user_activity"],
        watch.kafka_by_group["affinity"],
    )
    assert affinity - activity < 1_000  # the lifetime row's tile closed at the same minute
    assert watch.redis_by_group == {}  # no store to look in


def test_tile_updates_are_looked_up_from_the_append_and_timed_in_kafka_from_the_commit() -> None:
    update = {"tiles": [{"feature_group": "user_activity", "tile_start": 0, "last_ms": 500}]}
    topics = {"tiles.user.v2": "user"}
    v = Visibility(topics, {b"u": update}.__getitem__)
    watch = TileWatch("v2", "127.0.0.1:1", "redis://127.0.0.1:1", v, bool, 5_000)
    watch._appended("tiles.user.v2", "u1", b"u")  # the writer can apply it now
    assert watch._tiles == {("user_activity", "u1", 0): 500}
    assert watch.kafka_by_group == {}  # not committed yet
    watch._received("tiles.user.v2", "u1", b"u")
    assert len(watch.kafka_by_group["user_activity"]) == 1
    watch._appended("tiles.user.v2", "u1", b"u")  # the same version again: no new lookup
    watch._received("tiles.user.v2", "u1", b"u")
    assert len(watch.kafka_by_group["user_activity"]) == 1
