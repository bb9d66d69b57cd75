"""The guards and TTLs of the online store (v1 values, v2 tiles), in the real Redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from flink_jobs.online_store import FeatureGroupRef, FeatureRow, OnlineStore
from flink_jobs.settings import Settings
from flink_jobs.tiles import codec, online
from flink_jobs.tiles.compile import TILED_CATALOGUE
from flink_jobs.tiles.online import TileStore, TileWrite

MINUTE = 60_000


def row(ref: FeatureGroupRef, event_time_ms: int, count: int) -> FeatureRow:
    return FeatureRow(ref, "u1", event_time_ms, event_time_ms - 60_000, {"count": count})


def test_older_values_never_overwrite_newer_ones(stack: Settings, unique: str) -> None:
    client = redis.Redis.from_url(stack.redis_url)
    store = OnlineStore(client, ttl_ms=60_000)
    ref = FeatureGroupRef(f"it_{unique}", 1)
    assert store.write([row(ref, 2_000_000, 5)], now_ms=1) == 1
    # Older (reordered): a no-op. The same window again (recomputed after a job restart):
    # the later write wins. In one pipelined batch.
    assert store.write([row(ref, 1_999_999, 9), row(ref, 2_000_000, 7)], now_ms=2) == 1
    stored = store.read(ref, "u1")
    assert stored is not None
    assert (stored["count"], stored["_event_time_ms"], stored["_written_at_ms"]) == (
        "7",
        "2000000",
        "2",
    )
    assert store.write([row(ref, 1_999_999, 9)], now_ms=3) == 0
    assert store.write([row(ref, 2_000_001, 6)], now_ms=4) == 1
    stored = store.read(ref, "u1")
    assert stored is not None and stored["count"] == "6"
    assert 0 < client.pttl(ref.key("u1")) <= 60_000


def test_a_batch_larger_than_one_script_call_reports_each_row(stack: Settings, unique: str) -> None:
    store = OnlineStore(redis.Redis.from_url(stack.redis_url), ttl_ms=60_000)
    ref = FeatureGroupRef(f"it_{unique}", 1)
    first = [FeatureRow(ref, f"u{i}", 2_000_000, 1_940_000, {"count": i}) for i in range(250)]
    assert store.apply(first, now_ms=1) == [True] * 250
    # Every third row is older than what is stored: stale, in whichever script call it falls.
    stale = [i % 3 == 0 for i in range(250)]
    again = [
        FeatureRow(ref, f"u{i}", 1_999_999 if stale[i] else 2_000_000, 1_940_000, {"count": -i})
        for i in range(250)
    ]
    assert store.apply(again, now_ms=2) == [not s for s in stale]
    for i in (0, 99, 100, 101, 249):
        stored = store.read(ref, f"u{i}")
        assert stored is not None and stored["count"] == str(i if stale[i] else -i)


def _tile(start: int, n: int) -> dict[str, Any]:
    """A tile as the stream carries it: start, newest event and the stored form."""
    tile = {"tile_start": start, "tile_end": start + MINUTE, "n": n, "first_ms": start,
            "last_ms": start, "parts": []}  # fmt: skip
    return {"tile_start": start, "last_ms": start, "tile": codec.encode(tile).decode()}


def test_tile_writes_follow_the_stream_offset_and_prune_what_no_read_reaches(
    stack: Settings, unique: str
) -> None:
    client = redis.Redis.from_url(stack.redis_url)
    tiles = TileStore(client)
    group = next(g for g in TILED_CATALOGUE if g.name == "user_activity")  # 1-minute tiles
    entity, t0 = f"u_{unique}", 1_767_225_600_000
    hash_key = online.key(group, entity)

    def write(offset: int, watermark: int, *starts_n: tuple[int, int]) -> bool:
        update = TileWrite(group, entity, offset, watermark, [_tile(s, n) for s, n in starts_n])
        progress = {f"it_{unique}": watermark}
        (applied,) = tiles.apply([update], progress, now_ms=offset)
        return applied

    def stored() -> dict[int, int]:
        fields = client.hgetall(hash_key)
        return {int(k): codec.decode(v)["n"] for k, v in fields.items() if not k.startswith(b"_")}

    assert write(10, -1, (t0, 1), (t0 + MINUTE, 2))
    assert not write(9, t0, (t0, 99))  # an older offset (a replay): nothing changes
    assert stored() == {t0: 1, t0 + MINUTE: 2}
    assert write(10, t0, (t0, 3))  # the same update again (a writer restart): harmless
    assert write(12, t0 + MINUTE, (t0 + MINUTE, 4))
    assert stored() == {t0: 3, t0 + MINUTE: 4}
    assert client.hget(hash_key, online.WATERMARK) == str(t0 + MINUTE).encode()
    assert client.hget(hash_key, online.WRITTEN_AT) == b"12"
    assert 0 < client.pttl(hash_key) <= online.retention_ms(group)
    # The watermark moves past the reach of every read of the first tiles: they are pruned.
    later = t0 + online.read_back_ms() + 2 * MINUTE
    assert write(13, later, (later, 5))
    assert stored() == {later: 5}
    progress = client.hget(online.PROGRESS_KEY, f"it_{unique}")
    assert progress == str(later).encode()
    assert write(14, t0, (later, 6))  # progress never goes back; the tile is replaced
    assert client.hget(online.PROGRESS_KEY, f"it_{unique}") == progress
    assert stored() == {later: 6}


def test_a_tile_batch_larger_than_one_script_call_reports_each_write(
    stack: Settings, unique: str
) -> None:
    tiles = TileStore(redis.Redis.from_url(stack.redis_url))
    group = next(g for g in TILED_CATALOGUE if g.name == "user_activity")
    t0 = 1_767_225_600_000

    def writes(offset_of: Callable[[int], int]) -> list[TileWrite]:
        return [TileWrite(group, f"u{i}_{unique}", offset_of(i), t0, [_tile(t0, i)])
                for i in range(250)]  # fmt: skip

    assert tiles.apply(writes(lambda i: 100), {}, now_ms=1) == [True] * 250
    stale = [i % 3 == 0 for i in range(250)]
    assert tiles.apply(writes(lambda i: 99 if stale[i] else 101), {}, 2) == [not s for s in stale]
