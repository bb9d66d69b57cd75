"""Tiles in the Redis online store (docs/engine-v2.md §5.3): layout, guarded write, reads.

Layout: one hash per entity and tiled group version, ``tile:<group>:v<version>:<entity>``:

- ``<tile_start_ms>``: the tile, complete as of its last update, as the tile stream carries
  it (`flink_jobs.tiles.codec`'s form: stored as it comes, never decoded on the way),
- ``_offset``: the tile-stream offset of the update last applied,
- ``_watermark_ms``: the tile function's watermark at that update (-1 before the first),
- ``_written_at_ms``: when the writer applied it (wall clock).

Plus one hash ``sportsfeat:tiles:progress``: per group version (`progress_field`), the
greatest watermark of its entity kind's tile function that the writer applied: how far the
pipeline has come, which says whether a value read now is ``fresh`` or ``expired``.

The guard: an update applies iff its offset is at or after the stored one. An entity's
updates all live in one partition of its kind's topic, so a replay or rebuild of older
offsets never overwrites, and after a job restart the recomputed (committed) tiles, at later
offsets, replace the aborted ones. Reads reach back `READ_BACK` before the watermark
(``?at=``; older request times are the offline store's): tiles no such read selects are
pruned by the same script, and the hash expires when no update came for as long as no read
within that reach could select any of its tiles, so tiles expire with their windows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis

from flink_jobs.features.model import FeatureGroup, Hopping
from flink_jobs.online_store import FeatureGroupRef
from flink_jobs.tiles.compile import TILED_CATALOGUE, kinds
from flink_jobs.tiles.layout import tile_ms
from flink_jobs.tiles.merge import selected_range

OFFSET = "_offset"
WATERMARK = "_watermark_ms"
WRITTEN_AT = "_written_at_ms"
PROGRESS_KEY = "sportsfeat:tiles:progress"

READ_BACK = timedelta(minutes=10)  # how far before the watermark reads stay exact

# KEYS: the hashes, then the progress hash. Per hash, ARGV from `at`: offset, watermark,
# prune-before (tile starts below it are deleted; 0: none), TTL (ms), written-at, the number
# of tiles m, then m (tile start, stored tile) pairs. Then the number of progress fields p
# and p (field, watermark) pairs, each raised to at least that watermark. Returns 1
# (applied) or 0 (stale) per hash.
GUARDED_TILE_WRITE = """
local applied, at = {}, 1
for i = 1, #KEYS - 1 do
  local key = KEYS[i]
  local offset, watermark, prune = tonumber(ARGV[at]), ARGV[at + 1], tonumber(ARGV[at + 2])
  local ttl, written, m = tonumber(ARGV[at + 3]), ARGV[at + 4], tonumber(ARGV[at + 5])
  local stored = redis.call('HGET', key, '_offset')
  if stored and tonumber(stored) > offset then
    applied[i] = 0
  else
    local flat = {'_offset', ARGV[at], '_watermark_ms', watermark, '_written_at_ms', written}
    for j = 0, m - 1 do
      flat[#flat + 1] = ARGV[at + 6 + 2 * j]
      flat[#flat + 1] = ARGV[at + 7 + 2 * j]
    end
    redis.call('HSET', key, unpack(flat))
    if prune > 0 then
      for _, field in ipairs(redis.call('HKEYS', key)) do
        local start = tonumber(field)
        if start and start < prune then redis.call('HDEL', key, field) end
      end
    end
    redis.call('PEXPIRE', key, ttl)
    applied[i] = 1
  end
  at = at + 6 + 2 * m
end
local progress = KEYS[#KEYS]
for j = 0, tonumber(ARGV[at]) - 1 do
  local field, watermark = ARGV[at + 1 + 2 * j], tonumber(ARGV[at + 2 + 2 * j])
  local seen = redis.call('HGET', progress, field)
  if watermark >= 0 and (not seen or tonumber(seen) < watermark) then
    redis.call('HSET', progress, field, watermark)
  end
end
return applied
"""
UPDATES_PER_CALL = 100  # as the v1 store: one call blocks Redis for ~1 ms at most


def key(group: FeatureGroup, entity: str) -> str:
    return f"tile:{group.name}:v{group.version}:{entity}"


def progress_field(group: FeatureGroup) -> str:
    return f"{group.name}:v{group.version}"


def span_ms(group: FeatureGroup) -> int:
    """How far before the tile holding t a read at t reaches: a hopping window's size."""
    if isinstance(group.window, Hopping):
        return int(group.window.size.total_seconds() * 1000)
    return 0


def starts_at(group: FeatureGroup, t: int) -> list[int]:
    """The tile starts a read at t selects (`merge.selected_range`), oldest first."""
    lo, hi = selected_range(group, t)
    return list(range(lo, hi, tile_ms(group.window)))


def read_back_ms() -> int:
    return int(READ_BACK.total_seconds() * 1000)


def prune_before(group: FeatureGroup, watermark: int) -> int:
    """Tiles starting before this are selected by no read within `READ_BACK` of the
    watermark (0 before the first watermark: keep everything)."""
    if watermark < 0:
        return 0
    return max(selected_range(group, watermark - read_back_ms())[0], 1)


def retention_ms(group: FeatureGroup) -> int:
    """The hash's expiry after its last update: by then no read within `READ_BACK` of
    the time selects any of its tiles (the group's span and tile, plus the reach)."""
    return span_ms(group) + tile_ms(group.window) + read_back_ms()


@dataclass(frozen=True)
class TileWrite:
    """One tile-stream update's tiles of one group for one entity: the stream's records
    (`tile_start`, `last_ms`, `tile` in the stored form)."""

    group: FeatureGroup
    entity: str
    offset: int
    watermark_ms: int  # -1 before the tile function's first watermark
    tiles: Sequence[Mapping[str, Any]]

    def args(self, now_ms: int) -> list[str | int | bytes]:
        pairs: list[str | int | bytes] = []
        for tile in self.tiles:
            pairs += (tile["tile_start"], tile["tile"])
        head = (self.offset, self.watermark_ms, prune_before(self.group, self.watermark_ms),
                retention_ms(self.group), now_ms, len(self.tiles))  # fmt: skip
        return [*head, *pairs]

    @property
    def ref(self) -> FeatureGroupRef:
        return FeatureGroupRef(self.group.name, self.group.version)

    @property
    def event_time_ms(self) -> int:
        """The newest event the written tiles hold (for the writer's visible-lag metric)."""
        return max(tile["last_ms"] or 0 for tile in self.tiles)


TILED = {group.table: group for group in TILED_CATALOGUE}
# A tile function's watermark is its kind's: every group of the kind has come that far.
KIND_GROUPS = {g.table: kind.groups for kind in kinds(TILED_CATALOGUE) for g in kind.groups}


def writes_of(update: Mapping[str, Any], offset: int) -> list[TileWrite]:
    """A decoded tile-stream record (`schemas/tile-update.avsc`) at `offset` as one write
    per group; ValueError for a tile of a group this package does not know."""
    by_group: dict[str, list[Mapping[str, Any]]] = {}
    for tile in update["tiles"]:
        if tile is not None:
            by_group.setdefault(tile["feature_group"], []).append(tile)
    unknown = sorted(by_group.keys() - TILED.keys())
    if unknown:
        raise ValueError(f"tiles of unknown feature groups {unknown}")
    watermark = update["watermark_ms"]
    return [
        TileWrite(
            TILED[name], update["entity"], offset, -1 if watermark is None else watermark, tiles
        )
        for name, tiles in by_group.items()
    ]


def progress_of(writes: Iterable[TileWrite]) -> dict[str, int]:
    """Each group's greatest watermark among the writes, shared by its kind's groups."""
    progress: dict[str, int] = {}
    for write in writes:
        for group in KIND_GROUPS[write.group.table]:
            field = progress_field(group)
            progress[field] = max(write.watermark_ms, progress.get(field, -1))
    return progress


def _chunks(writes: Sequence[TileWrite]) -> Iterator[Sequence[TileWrite]]:
    for first in range(0, len(writes), UPDATES_PER_CALL):
        yield writes[first : first + UPDATES_PER_CALL]


class TileStore:
    def __init__(self, client: redis.Redis[bytes]) -> None:
        self._redis = client
        self._sha: str | None = None

    def apply(
        self, writes: Sequence[TileWrite], progress: Mapping[str, int], now_ms: int
    ) -> list[bool]:
        """Apply the writes in one pipelined round trip, in order, and raise each
        `progress_field` to its watermark; for each write, whether it applied (False: a
        later offset was stored). Safe to repeat."""
        if not writes and not progress:
            return []
        try:
            return self._apply(writes, progress, now_ms)
        except redis.exceptions.NoScriptError:  # Redis restarted: its script cache is empty
            self._sha = None
            return self._apply(writes, progress, now_ms)

    def _apply(
        self, writes: Sequence[TileWrite], progress: Mapping[str, int], now_ms: int
    ) -> list[bool]:
        if self._sha is None:
            self._sha = str(self._redis.script_load(GUARDED_TILE_WRITE))  # type: ignore[no-untyped-call]
        pipe = self._redis.pipeline(transaction=False)
        marks = [len(progress), *(arg for pair in progress.items() for arg in pair)]
        for chunk in _chunks(writes):
            keys = [key(w.group, w.entity) for w in chunk] + [PROGRESS_KEY]
            args = [arg for w in chunk for arg in w.args(now_ms)]
            pipe.evalsha(self._sha, len(keys), *keys, *args, *marks)
        if not writes:
            pipe.evalsha(self._sha, 1, PROGRESS_KEY, *marks)
        return [applied == 1 for replies in pipe.execute() for applied in replies]
