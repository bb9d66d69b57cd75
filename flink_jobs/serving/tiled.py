"""Engine-v2 ("tiled") groups as the API serves them: the stored tiles a read at request time
t selects, merged on read (docs/engine-v2.md §5.3-5.5).

A batch is one round trip: per entity an HMGET of the tiles t selects (`online.starts_at`)
and the hash's watermark and write time, plus the group's progress field. Decoding tiles
and deserializing sketches is the cost, so the merged IR of a read's complete tiles (end - 1
at or behind the hash's watermark: final) is cached, keyed by their stored strings: a tile
that changes (a job restart recomputes it) is a new key, never a stale value. Only the open
tiles are decoded on every read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Any

from prometheus_client import Counter

from flink_jobs.features.model import FeatureGroup, span
from flink_jobs.serving.store import Read
from flink_jobs.serving.times import iso, parse_at
from flink_jobs.tiles import codec, merge, online
from flink_jobs.tiles.layout import parts, tile_ms

READ_AHEAD = timedelta(seconds=5)  # request times this far ahead of the clock: clock skew
CACHE_SIZE = 1 << 12  # reads' merged complete tiles kept per group: ~4-25 KiB each with key


def _ms(value: timedelta) -> int:
    return int(value.total_seconds() * 1000)


class TiledGroup:
    """A tiled group's answers at request time t, in v1's shape (`app.EntityFeatures`):
    event_time is t, window_start the oldest selected tile's start, age_ms now minus the
    group's progress; `expired` when t is more than the TTL past the progress (or there is
    none yet), `missing` when no selected tile is stored."""

    def __init__(self, group: FeatureGroup, expired: Counter, cache_size: int = CACHE_SIZE) -> None:
        self.name = group.name
        self.version = group.version
        self.group = group
        self._parts = parts(group)
        self._tile_ms = tile_ms(group.window)
        self._ttl_ms = _ms(group.ttl)
        self._progress: Read = ([online.PROGRESS_KEY], [online.progress_field(group)])
        self._expired = expired.labels(group.name, str(group.version))
        self._missing: dict[str, Any] = {
            "group": group.name, "version": group.version, "entity_id": "", "status": "missing",
            "features": None, "event_time": None, "window_start": None, "written_at": None,
            "age_ms": None,
        }  # fmt: skip
        self.merged_complete = lru_cache(maxsize=cache_size)(self._merge)

    def request_time(self, at: str | None, now_ms: int) -> int:
        """t: `at` (`times.AT_FORMS`) or now; ValueError for a time the store cannot serve
        exactly (tiles older than `online.READ_BACK` are pruned)."""
        if at is None:
            return now_ms
        t = parse_at(at)
        oldest, newest = now_ms - online.read_back_ms(), now_ms + _ms(READ_AHEAD)
        if oldest <= t <= newest:
            return t
        allowed = (
            f"v2 groups serve request times from {span(online.READ_BACK)} before now to "
            f"{span(READ_AHEAD)} after ({iso(oldest)} to {iso(newest)})"
        )
        if t < oldest:
            raise ValueError(f"at={at} is too old: {allowed}; read older times offline (backfill)")
        raise ValueError(f"at={at} is in the future: {allowed}")

    def reads(self, entity_ids: Sequence[str], t: int) -> list[Read]:
        """Each entity's selected tiles, watermark and write time; the group's progress."""
        fields = [*map(str, online.starts_at(self.group, t)), online.WATERMARK, online.WRITTEN_AT]
        return [([online.key(self.group, e) for e in entity_ids], fields), self._progress]

    def answers(
        self,
        entity_ids: Sequence[str],
        replies: Sequence[Sequence[Sequence[str | None]]],
        t: int,
        now_ms: int,
    ) -> list[dict[str, Any]]:
        """The answers to `reads(entity_ids, t)`'s replies, in request order; expired ones
        are counted."""
        stored, ((progress,),) = replies
        found = {
            **self._missing,
            "status": "expired",
            "event_time": iso(t),
            "window_start": iso(merge.selected_range(self.group, t)[0]),
        }
        if progress is not None:
            found["age_ms"] = now_ms - int(progress)
            found["status"] = "expired" if t - int(progress) > self._ttl_ms else "fresh"
        starts = online.starts_at(self.group, t)
        results = [
            self._entity(entity_id, fields, starts, t, found)
            for entity_id, fields in zip(entity_ids, stored, strict=True)
        ]
        if found["status"] == "expired":
            self._expired.inc(sum(result["features"] is not None for result in results))
        return results

    def _entity(
        self,
        entity_id: str,
        fields: Sequence[str | None],
        starts: Sequence[int],
        t: int,
        found: dict[str, Any],
    ) -> dict[str, Any]:
        *tiles, watermark, written_at = fields
        if not any(tiles):
            return {**self._missing, "entity_id": entity_id}
        if watermark is None or written_at is None:
            key = online.key(self.group, entity_id)
            raise ValueError(f"{key} lacks {online.WATERMARK} or {online.WRITTEN_AT}")
        features = self.values(tiles, starts, int(watermark), t)
        return {
            **found,
            "entity_id": entity_id,
            "features": features,
            "written_at": iso(written_at),
        }

    def values(
        self, tiles: Sequence[str | None], starts: Sequence[int], watermark: int, t: int
    ) -> dict[str, Any]:
        """The feature values at t from the stored `tiles` at `starts` (None: not stored) of
        a hash at `watermark`: `merge.values` of them, with complete tiles merged once."""
        complete: list[str] = []
        opened: list[str] = []
        for start, tile in zip(starts, tiles, strict=True):
            if tile is not None:
                (complete if start + self._tile_ms - 1 <= watermark else opened).append(tile)
        if not opened:
            return merge.finalize(self.group, self.merged_complete(tuple(complete)), t)
        merged = merge.merge(self.group, map(codec.decode, opened))
        if complete:
            cached = self.merged_complete(tuple(complete))
            merged = [
                merge.merge_part(part, [done, now])
                for part, done, now in zip(self._parts, cached, merged, strict=True)
            ]
        return merge.finalize(self.group, merged, t)

    def _merge(self, tiles: tuple[str, ...]) -> tuple[merge.IR, ...]:
        return tuple(merge.merge(self.group, map(codec.decode, tiles)))
