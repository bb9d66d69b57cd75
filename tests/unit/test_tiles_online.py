"""Tiles in the online store (flink_jobs/tiles/online.py, codec.py): what the writer stores
and which tiles a read reaches. The Lua guard itself runs in the real Redis
(tests/integration/test_online_store.py)."""

from __future__ import annotations

import random

import pytest

from flink_jobs.features.catalogue import USER_ACTIVITY
from flink_jobs.features.model import FeatureGroup
from flink_jobs.tiles import codec, merge, online
from flink_jobs.tiles.compile import TILED_CATALOGUE, kinds
from flink_jobs.tiles.layout import tile_ms
from flink_jobs.writer import Batch
from tests.unit.test_tiles_merge import HOUR, MINUTE, T0, events, group_rows, tiles_of

BY_NAME = {g.name: g for g in TILED_CATALOGUE}


@pytest.mark.parametrize("group", TILED_CATALOGUE, ids=lambda g: g.name)
def test_stored_tiles_merge_as_the_stream_s(group: FeatureGroup) -> None:
    rng = random.Random(group.name)
    rows = group_rows(group, events(rng, 300, T0, T0 + 2 * HOUR, users=1))
    tiles = tiles_of(group, rows, rng)
    stored = [codec.decode(codec.encode(tile)) for tile in tiles]
    for t in (T0 + HOUR, T0 + HOUR + 1, T0 + 2 * HOUR):
        assert merge.values(group, stored, t) == merge.values(group, tiles, t)
    assert stored == tiles


def test_a_stored_tile_that_is_not_one_is_a_value_error() -> None:
    for junk in (b"{", b"[1, 2]", b"[1, 2, 3, 4, 5, [[1]]]", b"null"):
        with pytest.raises(ValueError, match="not a stored tile"):
            codec.decode(junk)


def test_reads_fetch_the_tiles_merge_selects() -> None:
    for group in TILED_CATALOGUE:
        size = tile_ms(group.window)
        around = [{"tile_start": T0 + i * size} for i in range(-30, 30)]
        for t in (T0, T0 + 1, T0 + size - 1, T0 + 7 * size + 3):
            selected = [tile["tile_start"] for tile in merge.select(group, around, t)]
            assert online.starts_at(group, t) == selected


def test_pruning_keeps_every_tile_a_read_within_reach_of_the_watermark_selects() -> None:
    group = BY_NAME["content_trending"]  # hopping 10 min every minute
    watermark = T0 + 3 * HOUR + 7 * MINUTE + 30
    keep_from = online.prune_before(group, watermark)
    oldest_read = watermark - online.read_back_ms()
    assert keep_from == min(online.starts_at(group, oldest_read))
    assert keep_from == T0 + 2 * HOUR + 47 * MINUTE  # floor(2:57:00.030, 1 min) - 10 min
    assert online.prune_before(group, -1) == 0  # before the first watermark: keep all
    # The hash outlives its last update until no read within reach selects any tile.
    assert online.retention_ms(group) == 10 * MINUTE + MINUTE + online.read_back_ms()


def _update(watermark: int | None, *tiles: dict[str, object]) -> dict[str, object]:
    return {"entity": "u1", "watermark_ms": watermark, "tiles": [*tiles, None]}


def _tile(group: str, start: int, last: int) -> dict[str, object]:
    """A tile as the stream carries it (its stored form is opaque here)."""
    return {"feature_group": group, "tile_start": start, "last_ms": last, "tile": "[]"}


def test_a_tile_update_is_one_write_per_group() -> None:
    update = _update(
        T0,
        _tile("user_activity_v2", T0, T0 + 5),
        _tile("user_today_v2", T0, T0 + 9),
        _tile("user_activity_v2", T0 - MINUTE, T0 - 1),
    )
    writes = online.writes_of(update, offset=42)
    assert [(w.group.table, len(w.tiles), w.offset, w.watermark_ms) for w in writes] == [
        ("user_activity_v2", 2, 42, T0),
        ("user_today_v2", 1, 42, T0),
    ]
    assert writes[0].event_time_ms == T0 + 5  # the newest event it makes visible
    assert online.key(writes[0].group, "u1") == "tile:user_activity:v2:u1"
    before_any_watermark = online.writes_of(_update(None, _tile("user_today_v2", T0, T0)), 1)
    assert before_any_watermark[0].watermark_ms == -1


def test_a_tile_of_an_unknown_group_is_rejected_whole() -> None:
    update = _update(T0, _tile("user_activity_v2", T0, T0), _tile("nope_v2", T0, T0))
    with pytest.raises(ValueError, match=r"unknown feature groups \['nope_v2'\]"):
        online.writes_of(update, 1)
    with pytest.raises(ValueError, match="unknown"):
        online.writes_of(_update(T0, _tile(f"{USER_ACTIVITY.name}_v1", T0, T0)), 1)


def test_progress_is_the_kind_s_watermark_for_each_of_its_groups() -> None:
    user = next(k for k in kinds(TILED_CATALOGUE) if k.entity == "user_id")
    writes = [
        *online.writes_of(_update(T0 + 5, _tile("user_activity_v2", T0, T0)), 1),
        *online.writes_of(_update(T0 + 9, _tile("user_today_v2", T0, T0)), 2),
        *online.writes_of(_update(T0 + 7, _tile("user_activity_v2", T0, T0)), 3),
    ]
    assert online.progress_of(writes) == {online.progress_field(g): T0 + 9 for g in user.groups}
    assert online.progress_field(user.groups[0]) == "user_activity:v2"


def test_the_writer_s_batch_sends_tile_streams_to_the_tile_store() -> None:
    batch = Batch()
    update = _update(T0, _tile("user_activity_v2", T0, T0))
    batch.add("tiles.user.v2", b"u1", 7, update)
    window = {"window_start": T0 - MINUTE, "window_end": T0, "views": 3}
    batch.add("features.user_activity.v1", b"u1", 8, window)
    assert [(w.entity, w.offset) for w in batch.tiles] == [("u1", 7)]
    assert [(r.entity_id, r.features) for r in batch.rows] == [("u1", {"views": 3})]


def test_a_write_s_script_arguments_hold_its_tiles_after_the_guard_fields() -> None:
    group = BY_NAME["user_activity"]
    tile = tiles_of(
        group, group_rows(group, events(random.Random(1), 5, T0, T0 + 1)), random.Random(1)
    )[0]
    stored = codec.encode(tile).decode()
    write = online.TileWrite(group, "u1", 11, T0 + 2 * MINUTE, [{**tile, "tile": stored}])
    args = write.args(now_ms=123)
    prune = online.prune_before(group, T0 + 2 * MINUTE)
    assert args == [
        11,
        T0 + 2 * MINUTE,
        prune,
        online.retention_ms(group),
        123,
        1,
        T0,
        stored,
    ]
