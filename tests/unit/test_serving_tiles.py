"""The feature API's engine-v2 groups: tiles in (a fake) Redis, merged on read at request time.

Tiles are built from random rows as the Java tile function builds them (test_tiles_merge's
builders), stored as the writer stores them (`codec.encode`, online.py's layout), and every
answer must carry `merge.values` of the tiles the request time selects.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from flink_jobs.features.model import FeatureGroup, Hopping
from flink_jobs.serving.app import EntityFeatures, Metrics, create_app
from flink_jobs.serving.tiled import TiledGroup
from flink_jobs.serving.times import iso, parse_at
from flink_jobs.settings import Settings
from flink_jobs.tiles import codec, merge, online
from flink_jobs.tiles.compile import TILED_CATALOGUE
from flink_jobs.tiles.layout import tile_ms
from tests.unit.test_serving import FakeRedis, resp_server
from tests.unit.test_tiles_merge import DAY, HOUR, MINUTE, T0, events, group_rows, tiles_of

NOW = (
    T0 + DAY + 4 * MINUTE + 30_123
)  # 2026-01-02T00:04:30.123Z: a day and an hour began within reach
WATERMARK_MS = NOW - 2_000  # the hashes' watermark: tiles ending by then are complete
BY_NAME = {g.name: g for g in TILED_CATALOGUE}
Tile = dict[str, Any]


def stored_tiles(group: FeatureGroup, seed: str) -> list[Tile]:
    """An entity's tiles of rows over the last 3 hours, most in the last 15 minutes (every
    minute has some), as the online store gives them back."""
    rng = random.Random(f"{group.name}:{seed}")
    recent = events(rng, 300, NOW - 15 * MINUTE, NOW)
    rows = group_rows(group, events(rng, 200, NOW - 3 * HOUR, NOW) + recent)
    return [codec.decode(codec.encode(tile)) for tile in tiles_of(group, rows, rng)]


def put(
    fake: FakeRedis,
    group: FeatureGroup,
    entity: str,
    tiles: list[Tile],
    watermark: int = WATERMARK_MS,
) -> None:
    """Store the tiles the way the writer does."""
    fake.stored[online.key(group, entity)] = {
        **{str(tile["tile_start"]): codec.encode(tile).decode() for tile in tiles},
        online.OFFSET: "42",
        online.WATERMARK: str(watermark),
        online.WRITTEN_AT: str(NOW - 1_000),
    }


def progress(fake: FakeRedis, group: FeatureGroup, watermark: int) -> None:
    fake.stored.setdefault(online.PROGRESS_KEY, {})[online.progress_field(group)] = str(watermark)


def url(group: FeatureGroup, entity: str = "") -> str:
    return f"/features/{group.name}/v{group.version}/{entity}"


def same(got: dict[str, Any], want: dict[str, Any]) -> bool:
    """Equal values, floats up to rounding (the cache merges in another grouping)."""
    return list(got) == list(want) and all(
        math.isclose(g, w, rel_tol=1e-12, abs_tol=1e-9)
        if isinstance(g, float) and isinstance(w, float)
        else g == w
        for g, w in zip(got.values(), want.values(), strict=True)
    )


def request_times(group: FeatureGroup) -> list[int]:
    """Now, the oldest and newest times served, and tile edges ±1 ms and midpoints within."""
    size = tile_ms(group.window)
    oldest, newest = NOW - online.read_back_ms(), NOW + 5_000
    edges = range(oldest - oldest % size, newest + 1, size)
    times = {NOW, oldest, newest, *(e + d for e in edges for d in (-1, 0, 1, size // 2))}
    return sorted(t for t in times if oldest <= t <= newest)


@pytest.fixture
def fake() -> FakeRedis:
    return FakeRedis()


@pytest.fixture
def api(fake: FakeRedis, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(time, "time_ns", lambda: NOW * 1_000_000)
    with TestClient(create_app(Settings(), fake)) as client:
        yield client


@pytest.mark.parametrize("group", TILED_CATALOGUE, ids=lambda g: g.name)
def test_the_api_serves_merge_values_of_the_selected_tiles(
    api: TestClient, fake: FakeRedis, group: FeatureGroup
) -> None:
    tiles = stored_tiles(group, "u1")
    put(fake, group, "u1", tiles)
    progress(fake, group, NOW - 1_500)
    for t in request_times(group):
        params = {"at": str(t)}
        if not merge.select(group, tiles, t):  # a new tumbling window, no row yet
            assert api.get(url(group, "u1"), params=params).json()["status"] == "missing"
            continue
        want = merge.values(group, tiles, t)
        for _ in range(2):  # the second read merges the complete tiles from the cache
            response = api.get(url(group, "u1"), params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["status"] == "fresh"
            assert same(body["features"], want), f"t={t}: {body['features']} != {want}"
        assert body["event_time"] == iso(t)
        assert body["window_start"] == iso(merge.selected_range(group, t)[0])
        assert (body["written_at"], body["age_ms"]) == (iso(NOW - 1_000), 1_500)
        assert response.content == EntityFeatures.model_validate(body).model_dump_json().encode()


@pytest.mark.parametrize("name", ["user_engagement_5m", "content_trending"])
def test_hopping_reads_are_a_sawtooth(api: TestClient, fake: FakeRedis, name: str) -> None:
    group = BY_NAME[name]
    assert isinstance(group.window, Hopping)
    size, slide = int(group.window.size.total_seconds() * 1000), tile_ms(group.window)
    put(fake, group, "c1", stored_tiles(group, "c1"))
    boundary = NOW - NOW % slide
    for t, window in ((boundary, size), (boundary + 1, size + 1), (boundary - 1, size + slide - 1)):
        body = api.get(url(group, "c1"), params={"at": str(t)}).json()
        assert body["window_start"] == iso(t - window)


def test_missing_fresh_and_expired(api: TestClient, fake: FakeRedis) -> None:
    group = BY_NAME["game_engagement"]  # TTL 5 min
    tiles = stored_tiles(group, "g1")
    put(fake, group, "g1", tiles)
    put(fake, group, "old", [tile for tile in tiles if tile["tile_start"] < NOW - HOUR])
    body = api.get(url(group, "g1")).json()
    assert (body["status"], body["age_ms"]) == ("expired", None)  # no progress yet
    progress(fake, group, NOW - 5 * MINUTE)  # as old as the TTL: still fresh
    batch = {"entity_ids": ["g1", "old", "nobody"]}
    results = api.post(url(group, "batch"), json=batch).json()["results"]
    assert [r["status"] for r in results] == ["fresh", "missing", "missing"]
    assert api.get(url(group, "nobody")).json() == {
        "group": group.name, "version": 2, "entity_id": "nobody", "status": "missing",
        "features": None, "event_time": None, "window_start": None, "written_at": None,
        "age_ms": None,
    }  # fmt: skip
    progress(fake, group, NOW - 5 * MINUTE - 1)
    body = api.get(url(group, "g1")).json()
    assert (body["status"], body["age_ms"]) == ("expired", 5 * MINUTE + 1)
    assert same(body["features"], merge.values(group, tiles, NOW))  # expired, never withheld
    # judged at the request time: 3 min earlier the pipeline was only 2 min behind
    earlier = api.get(url(group, "g1"), params={"at": str(NOW - 3 * MINUTE)}).json()
    assert earlier["status"] == "fresh"
    metrics = api.get("/metrics").text
    assert 'sportsfeat_api_expired_reads_total{group="game_engagement",version="2"} 2.0' in metrics


def test_a_batch_answers_in_request_order_in_one_round_trip(
    api: TestClient, fake: FakeRedis
) -> None:
    group = BY_NAME["user_engagement_1h"]
    tiles = {entity: stored_tiles(group, entity) for entity in ("u1", "u2")}
    for entity, of_entity in tiles.items():
        put(fake, group, entity, of_entity)
    progress(fake, group, NOW - 1_500)
    ids = ["u2", "nobody", "u1", "u2"]
    at = NOW - 5 * MINUTE  # the previous hour: its tile is complete
    response = api.post(url(group, "batch"), params={"at": str(at)}, json={"entity_ids": ids})
    assert fake.round_trips == 1
    body = response.json()
    assert (body["group"], body["version"]) == (group.name, 2)
    assert [r["entity_id"] for r in body["results"]] == ids
    assert [r["status"] for r in body["results"]] == ["fresh", "missing", "fresh", "fresh"]
    for result in body["results"]:
        stored = tiles.get(result["entity_id"])
        assert result["features"] == (None if stored is None else merge.values(group, stored, at))
        assert result["event_time"] == (None if stored is None else iso(at))


def test_one_round_trip_reads_the_selected_tiles_and_the_progress() -> None:
    group = BY_NAME["user_engagement_5m"]
    served = TiledGroup(group, Metrics().expired)
    reads = served.reads(["u1", "u2"], NOW)
    starts = [str(s) for s in range(NOW - NOW % MINUTE - 5 * MINUTE, NOW, MINUTE)]
    assert reads == [
        (
            ["tile:user_engagement_5m:v2:u1", "tile:user_engagement_5m:v2:u2"],
            [*starts, "_watermark_ms", "_written_at_ms"],
        ),
        (["sportsfeat:tiles:progress"], ["user_engagement_5m:v2"]),
    ]


@pytest.mark.parametrize(
    "at",
    ["1767312270123", "2026-01-02T00:04:30.123Z", "2026-01-02T01:04:30.123+01:00",
     "2026-01-01T23:04:30.123456-01:00"],
)  # fmt: skip
def test_at_is_iso_with_a_zone_or_epoch_ms(at: str) -> None:
    assert parse_at(at) == NOW


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("yesterday", "malformed at='yesterday': use ISO 8601 with a zone"),
        ("2026-01-02T00:04:30", "malformed at='2026-01-02T00:04:30'"),  # no zone
        ("2026-01-02", "or epoch milliseconds"),
        ("-5", "malformed at='-5'"),
        (str(NOW - 10 * MINUTE - 1), "is too old: v2 groups serve request times from 10m before"),
        ("2026-01-01T23:54:30.122Z", "read older times offline (backfill)"),
        (str(NOW + 5_001), "is in the future"),
        (str(NOW + 5_001), "(2026-01-01T23:54:30.123000Z to 2026-01-02T00:04:35.123000Z)"),
    ],
)
def test_a_request_time_out_of_reach_is_400_with_the_range(
    api: TestClient, at: str, message: str
) -> None:
    group = BY_NAME["user_activity"]
    for response in (
        api.get(url(group, "u1"), params={"at": at}),
        api.post(url(group, "batch"), params={"at": at}, json={"entity_ids": ["u1"]}),
    ):
        assert response.status_code == 400
        assert message in response.json()["detail"]


def test_v1_groups_take_no_request_time(api: TestClient, fake: FakeRedis) -> None:
    for response in (
        api.get("/features/user_activity/v1/u1", params={"at": str(NOW)}),
        api.post(
            "/features/user_activity/v1/batch", params={"at": "x"}, json={"entity_ids": ["u"]}
        ),
    ):
        assert response.status_code == 400
        assert response.json() == {
            "detail": "v1 groups serve their latest window; at= is for v2 groups"
        }
    assert fake.round_trips == 0
    assert api.get("/features/user_activity/v1/u1").json()["status"] == "missing"


def test_complete_tiles_are_merged_once_and_a_changed_one_is_not_served_stale() -> None:
    group = BY_NAME["content_trending"]  # 10 tiles of a minute, HLL and KLL sketches
    served = TiledGroup(group, Metrics().expired, cache_size=4)
    tiles = {tile["tile_start"]: tile for tile in stored_tiles(group, "c1")}
    starts = online.starts_at(group, NOW)

    def values(by_start: dict[int, Tile]) -> dict[str, Any]:
        stored = [by_start.get(s) for s in starts]
        raw = [None if tile is None else codec.encode(tile).decode() for tile in stored]
        return served.values(raw, starts, WATERMARK_MS, NOW)

    first = values(tiles)
    assert same(first, merge.values(group, tiles.values(), NOW))
    assert served.merged_complete.cache_info().misses == 1
    assert values(tiles) == first
    assert served.merged_complete.cache_info().hits == 1
    # a job restart recomputed a complete tile with fewer rows: a new key, a new merge
    complete = next(start for start in starts[:-1] if start in tiles)
    assert complete + MINUTE - 1 <= WATERMARK_MS
    other = stored_tiles(group, "other")[0] | {
        "tile_start": complete,
        "tile_end": complete + MINUTE,
    }
    changed = {**tiles, complete: other}
    assert not same(values(changed), first)
    assert same(values(changed), merge.values(group, changed.values(), NOW))
    assert served.merged_complete.cache_info().misses == 2
    # only the open tile (the one holding NOW) is outside the cached merge
    assert starts[-1] + MINUTE - 1 > WATERMARK_MS >= starts[-2] + MINUTE - 1


def test_the_redis_store_reads_different_fields_of_different_hashes_at_once() -> None:
    async def check() -> None:
        async with resp_server() as (fake, store):
            fake.hashes[b"k1"] = {b"a": b"1", b"b": b"2"}
            fake.hashes[b"p"] = {b"x": b"9"}
            reads = [(["k1", "none"], ["b", "a"]), (["p"], ["x", "y"]), ([], ["a"])]
            assert await store.hmget_each(reads) == [
                [["2", "1"], [None, None]],
                [["9", None]],
                [],
            ]
            assert await store.hmget(["k1"], ["a"]) == [["1"]]
            assert len(fake.connections) == 1

    asyncio.run(check())
