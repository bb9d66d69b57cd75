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

# KEYS[1] the hash; ARGV[1] event time (ms), ARGV[2] TTL (ms, 0 = none), ARGV[3] the fields
# as one JSON object of strings (one argument instead of two per field: cheaper to send).
GUARDED_WRITE = """
local stored = redis.call('HGET', KEYS[1], '_event_time_ms')
if stored and tonumber(stored) > tonumber(ARGV[1]) then return 0 end
local flat = {}
for name, value in pairs(cjson.decode(ARGV[3])) do
  flat[#flat + 1] = name
  flat[#flat + 1] = value
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(flat))
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
"""


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
        for row in rows:
            fields = {name: _stored(value) for name, value in row.features.items()}
            fields[EVENT_TIME] = fields[WINDOW_END] = str(row.event_time_ms)
            fields[WINDOW_START] = str(row.window_start_ms)
            fields[WRITTEN_AT] = str(now_ms)
            key = row.ref.key(row.entity_id)
            pipe.evalsha(
                self._sha, 1, key, row.event_time_ms, self._ttl_ms(row.ref), json.dumps(fields)
            )
        return [applied == 1 for applied in pipe.execute()]

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
