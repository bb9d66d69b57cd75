"""The Redis online store: key layout, the event-time-guarded write, and reads.

Layout: one hash per entity and feature-group version,
``feat:<group>:v<version>:<entity id>``, holding every feature of the group as a field
plus metadata fields:

- ``_event_time_ms``: the event time the values are valid for (the window end, exclusive),
- ``_window_start_ms`` / ``_window_end_ms``: the window that produced them,
- ``_written_at_ms``: when the writer stored them (wall clock).

A write replaces the whole hash only when its ``_event_time_ms`` is as new as the stored
one or newer, atomically in Redis (a Lua compare-and-set), so a replayed or reordered older
value never overwrites a newer one, and a window written again replaces its earlier value
(the writer reads uncommitted records: after a job restart, the recomputed window is the
committed one, see flink_jobs/writer.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import redis

from flink_jobs.errors import UserError

EVENT_TIME = "_event_time_ms"
WINDOW_START = "_window_start_ms"
WINDOW_END = "_window_end_ms"
WRITTEN_AT = "_written_at_ms"
FEATURE_TOPIC = re.compile(r"^features\.(?P<group>[a-z0-9_]+)\.v(?P<version>[0-9]+)$")

# Per row i: KEYS[i] the hash; ARGV[3i-2] event time (ms), ARGV[3i-1] TTL (ms, 0 = none),
# ARGV[3i] the fields as one JSON object of strings (one argument instead of two per field:
# cheaper to send). Returns 1 (applied) or 0 (stale) per row.
GUARDED_WRITE = """
local applied = {}
for i, key in ipairs(KEYS) do
  local stored = redis.call('HGET', key, '_event_time_ms')
  if stored and tonumber(stored) > tonumber(ARGV[3 * i - 2]) then
    applied[i] = 0
  else
    local flat = {}
    for name, value in pairs(cjson.decode(ARGV[3 * i])) do
      flat[#flat + 1] = name
      flat[#flat + 1] = value
    end
    redis.call('DEL', key)
    redis.call('HSET', key, unpack(flat))
    local ttl = tonumber(ARGV[3 * i - 1])
    if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
    applied[i] = 1
  end
end
return applied
"""
# Rows per script call: far fewer commands to pack and dispatch than one per row, while one
# call blocks Redis (and the API's reads) for ~1 ms at most. A multi-key script needs one
# Redis, not Redis Cluster (whose keys of one call must share a hash slot).
ROWS_PER_CALL = 100


@dataclass(frozen=True)
class FeatureGroupRef:
    group: str
    version: int

    @classmethod
    def from_topic(cls, topic: str) -> FeatureGroupRef:
        match = FEATURE_TOPIC.match(topic)
        if match is None:
            raise ValueError(f"{topic!r} is not a feature topic (features.<group>.v<version>)")
        return cls(match["group"], int(match["version"]))

    @property
    def topic(self) -> str:
        return f"features.{self.group}.v{self.version}"

    def key(self, entity_id: str) -> str:
        return f"feat:{self.group}:v{self.version}:{entity_id}"


def _stored(value: str | int | float | list[str]) -> str:
    """A feature value as Redis keeps it: lists as JSON, the rest as text."""
    return json.dumps(value) if isinstance(value, list) else str(value)


@dataclass(frozen=True)
class FeatureRow:
    """One feature-group value for one entity, as the writer applies it."""

    ref: FeatureGroupRef
    entity_id: str
    event_time_ms: int
    window_start_ms: int
    features: Mapping[str, str | int | float | list[str]]


class OnlineStore:
    def __init__(
        self, client: redis.Redis[bytes], ttl_ms: Callable[[FeatureGroupRef], int] | int = 0
    ) -> None:
        """`ttl_ms`: expiry of written values, per group or for all (0: none; reads only)."""
        self._redis = client
        self._ttl_ms = ttl_ms if callable(ttl_ms) else (lambda _ref: ttl_ms)
        self._sha: str | None = None

    def write(self, rows: Sequence[FeatureRow], now_ms: int) -> int:
        """Apply the rows in one pipelined round trip; returns how many replaced older values.

        Safe to repeat: a retried batch writes the same values again.
        """
        return sum(self.apply(rows, now_ms))

    def apply(self, rows: Sequence[FeatureRow], now_ms: int) -> list[bool]:
        """Like `write`, but says for each row whether it replaced an older value (True) or
        found a newer one stored (False: stale, skipped)."""
        if not rows:
            return []
        try:
            return self._write(rows, now_ms)
        except redis.exceptions.NoScriptError:  # Redis restarted: its script cache is empty
            self._sha = None
            return self._write(rows, now_ms)

    def _write(self, rows: Sequence[FeatureRow], now_ms: int) -> list[bool]:
        if self._sha is None:
            self._sha = str(self._redis.script_load(GUARDED_WRITE))  # type: ignore[no-untyped-call]
        pipe = self._redis.pipeline(transaction=False)
        for first in range(0, len(rows), ROWS_PER_CALL):
            chunk = rows[first : first + ROWS_PER_CALL]
            args: list[str | int] = []
            for row in chunk:
                fields = {name: _stored(value) for name, value in row.features.items()}
                fields[EVENT_TIME] = fields[WINDOW_END] = str(row.event_time_ms)
                fields[WINDOW_START] = str(row.window_start_ms)
                fields[WRITTEN_AT] = str(now_ms)
                args += (row.event_time_ms, self._ttl_ms(row.ref), json.dumps(fields))
            keys = [row.ref.key(row.entity_id) for row in chunk]
            pipe.evalsha(self._sha, len(chunk), *keys, *args)
        return [applied == 1 for replies in pipe.execute() for applied in replies]

    def read(self, ref: FeatureGroupRef, entity_id: str) -> dict[str, str] | None:
        try:
            raw = self._redis.hgetall(ref.key(entity_id))
        except redis.RedisError as exc:
            raise UserError(
                f"Redis does not answer ({exc}): start the stack with `sportsfeat stack up`"
            ) from exc
        if not raw:
            return None
        return {k.decode(): v.decode() for k, v in raw.items()}
