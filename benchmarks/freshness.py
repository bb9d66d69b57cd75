"""Freshness under a paced, real-time load. Engine v2's tiles: from the event (`TileWatch`).
Window-close engines (v1, the plain-SQL job, the peer): for each feature row, from the
moment its window could close (window end + the 5 s watermark bound; for a lifetime
aggregate, whose rows end at their last event and are emitted once per tile, the end of
that tile) to the moment it is visible.

- in Kafka: when a read_committed consumer of the system's feature topic receives it;
- in Redis: the write time the store holds with it (the project's writer stamps
  `_written_at_ms` as it applies a batch, the peer's sink as it serializes one), read for
  the sampled entities whose rows arrived in Kafka (Redis keeps only the newest window,
  so each row is looked up shortly after it appeared).

Only windows that close while the load runs count: after it stops, time stands still.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import redis
from confluent_kafka import Consumer

from benchmarks import kafka_io
from flink_jobs.features.model import FeatureGroup, Lifetime
from flink_jobs.kafka_poll import ready
from flink_jobs.online_store import FeatureGroupRef
from flink_jobs.tiles import codec, online
from flink_jobs.topic_tail import as_ms
from flink_jobs.verify.reference import ms


@dataclass(frozen=True)
class Visibility:
    """Where one system's rows become visible and how to read them."""

    topics: dict[str, str]  # topic -> the feature group whose rows it carries
    decode: Callable[[bytes], dict[str, Any]]
    # (group topic, entity) -> (window end, written-at) stored in Redis, or None; no
    # function: the system serves from Kafka only
    stored: Callable[[redis.Redis[bytes], str, str], tuple[int, int] | None] | None = None
    # topic -> tile (ms) of a group whose rows end at their last event (a lifetime
    # aggregate, updated once per tile): such a row can close only when its tile does
    tiles: dict[str, int] = field(default_factory=dict)

    def closes(self, topic: str, window_end: int) -> int:
        """When the row could be emitted: its window's end, or its tile's."""
        tile = self.tiles.get(topic)
        return window_end if tile is None else (window_end // tile + 1) * tile


def project_stored(client: redis.Redis[bytes], topic: str, entity: str) -> tuple[int, int] | None:
    key = FeatureGroupRef.from_topic(topic).key(entity)
    end, written = client.hmget(key, ["_window_end_ms", "_written_at_ms"])
    return (int(end), int(written)) if end and written else None


def project_visibility(groups: dict[str, FeatureGroup], registry_url: str) -> Visibility:
    """The project's feature topics (topic -> group; Confluent Avro) and the writer's Redis
    hashes."""
    tiles = {t: ms(g.window.tile) for t, g in groups.items() if isinstance(g.window, Lifetime)}
    topics = {t: g.name for t, g in groups.items()}
    return Visibility(topics, kafka_io.avro_decoder(registry_url), project_stored, tiles)


Handler = Callable[[str, str, bytes | None], None]  # (topic, entity, value)


@dataclass(eq=False)  # a Thread must stay hashable
class Watch(threading.Thread):
    """Collects Kafka and Redis visibility delays of one system until stopped."""

    name_: str
    bootstrap: str
    redis_url: str
    visibility: Visibility
    sampled: Callable[[str], bool]
    bound_ms: int
    kafka_by_group: dict[str, list[float]] = field(default_factory=dict)  # delays, ms
    redis_by_group: dict[str, list[float]] = field(default_factory=dict)
    lookup_every_s: float = 2.0  # Redis lookups of the sampled entities' pending rows
    # What a delay is timed from, and how, in a report.
    timed_from: ClassVar[str] = "window close"
    how: ClassVar[str] = (
        "window close (window end + the bound) -> visible in Redis (the store's write stamp, "
        "sampled entities) and -> seen by a read_committed Kafka consumer; the engines make "
        "an event visible only when its window closes, so event -> visible is not measured "
        "apart"
    )

    def __post_init__(self) -> None:
        super().__init__(name=f"freshness-{self.name_}", daemon=True)
        self._stop_event = threading.Event()
        self._closes_from = float("-inf")
        self._closes_until = float("inf")
        # (topic, entity) -> (window end, when the row could close)
        self._pending: dict[tuple[str, str], tuple[int, int]] = {}

    @property
    def kafka_ms(self) -> list[float]:
        return [ms for delays in self.kafka_by_group.values() for ms in delays]

    @property
    def redis_ms(self) -> list[float]:
        return [ms for delays in self.redis_by_group.values() for ms in delays]

    def closes_from(self, ms: float) -> None:
        """Count only windows that close from `ms` on (past a start-up the load waits out)."""
        self._closes_from = ms

    def closes_until(self, ms: float) -> None:
        """Count only windows that close by `ms` (when the load stopped)."""
        self._closes_until = ms

    def _consumer(self, isolation: str) -> Consumer:
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": f"bench-fresh-{uuid.uuid4().hex[:8]}",
                "isolation.level": isolation,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "topic.metadata.refresh.interval.ms": 2000,  # the peer creates its topics late
                "log_level": 3,
            }
        )
        consumer.subscribe(list(self.visibility.topics))
        return consumer

    def _feeds(self) -> list[tuple[Consumer, Handler]]:
        """The consumers to read and what each record is handed to."""
        return [(self._consumer("read_committed"), self._received)]

    def run(self) -> None:
        feeds = self._feeds()
        store = redis.Redis.from_url(self.redis_url)
        next_lookup = time.monotonic() + self.lookup_every_s
        try:
            while not self._stop_event.is_set():
                for consumer, handle in feeds:
                    for msg in ready(consumer, 1000, 0.1):
                        if not msg.error():
                            handle(msg.topic() or "", (msg.key() or b"").decode(), msg.value())
                if time.monotonic() >= next_lookup:
                    next_lookup = time.monotonic() + self.lookup_every_s
                    self._look_up(store)
            self._look_up(store)
        finally:
            for consumer, _ in feeds:
                consumer.close()

    def _received(self, topic: str, entity: str, raw: bytes | None) -> None:
        now_ms = time.time() * 1000
        end = as_ms(self.visibility.decode(raw or b"")["window_end"])
        close = self.visibility.closes(topic, end) + self.bound_ms
        if not self._closes_from <= close <= self._closes_until:
            return
        self.kafka_by_group.setdefault(self.visibility.topics[topic], []).append(now_ms - close)
        if self.visibility.stored is not None and self.sampled(entity):
            self._pending[(topic, entity)] = (end, close)

    def _look_up(self, store: redis.Redis[bytes]) -> None:
        stored = self.visibility.stored
        if stored is None:
            return
        for (topic, entity), (end, close) in list(self._pending.items()):
            found = stored(store, topic, entity)
            if found is None or found[0] < end:
                continue  # not written yet
            del self._pending[(topic, entity)]
            if found[0] == end:  # else already overwritten by a newer window
                delay = found[1] - close
                self.redis_by_group.setdefault(self.visibility.topics[topic], []).append(delay)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(30)


@dataclass(eq=False)
class TileWatch(Watch):
    """Engine v2's freshness, from the event: a tile update makes its newest event
    (`last_ms`, the event time, which the replayer makes the append time) visible. In Kafka:
    when a read_committed consumer receives the update; in Redis: the `_written_at_ms` of
    the entity's tile hash once it holds that version of the tile, looked up as soon as
    the update is in the topic (read_uncommitted, as the writer reads it: waiting for the
    commit would let a later write of the hash, for the entity's next tile, restamp it).
    Sampled entities only. Each update's older new events waited longer, by at most the
    emit interval (500 ms); a hash written again for another tile between a write and its
    lookup overstates the delay, by at most the lookup interval."""

    lookup_every_s: float = 0.2
    timed_from: ClassVar[str] = "event"
    how: ClassVar[str] = (
        "event -> visible: a tile update makes its newest event (the tile's last_ms, which "
        "the replayer makes the append time) visible in Redis when the writer stamps the "
        "entity's tile hash holding it (sampled entities, looked up from the moment the "
        "update is in the topic) and in Kafka when a read_committed consumer receives the "
        "update (so Kafka pays the checkpoint interval of exactly-once output); older "
        "events of an update waited up to the 500 ms emit interval more"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self._seen: dict[tuple[str, str, bool], tuple[int, int]] = {}  # -> newest tile
        self._tiles: dict[tuple[str, str, int], int] = {}  # (group, entity, start) -> last

    def _feeds(self) -> list[tuple[Consumer, Handler]]:
        return [
            (self._consumer("read_committed"), self._received),
            (self._consumer("read_uncommitted"), self._appended),
        ]

    def _new_tiles(
        self, entity: str, raw: bytes | None, committed: bool
    ) -> list[tuple[str, int, int]]:
        """The update's (group, start, last) that carry a newer event than seen before on
        this feed, in the load's time range."""
        if not self.sampled(entity):
            return []
        new = []
        for tile in self.visibility.decode(raw or b"")["tiles"]:
            if tile is None:
                continue
            group, start, last = tile["feature_group"], tile["tile_start"], tile["last_ms"]
            if self._seen.get((group, entity, committed), (0, -1)) >= (start, last):
                continue  # an older tile again, or no new event in it
            self._seen[(group, entity, committed)] = (start, last)
            if self._closes_from <= last <= self._closes_until:
                new.append((group, start, last))
        return new

    def _received(self, topic: str, entity: str, raw: bytes | None) -> None:
        now_ms = time.time() * 1000
        for group, _, last in self._new_tiles(entity, raw, committed=True):
            self.kafka_by_group.setdefault(group, []).append(now_ms - last)

    def _appended(self, topic: str, entity: str, raw: bytes | None) -> None:
        for group, start, last in self._new_tiles(entity, raw, committed=False):
            self._tiles[(group, entity, start)] = last

    def _look_up(self, store: redis.Redis[bytes]) -> None:
        pending = list(self._tiles.items())
        pipe = store.pipeline(transaction=False)
        for (group, entity, start), _ in pending:
            pipe.hmget(online.key(online.TILED[group], entity), [str(start), online.WRITTEN_AT])
        for ((group, entity, start), last), (tile, written) in zip(
            pending, pipe.execute(), strict=True
        ):
            stored = codec.decode(tile)["last_ms"] if tile else -1
            if stored < last:
                continue  # not written yet
            del self._tiles[(group, entity, start)]
            if stored == last:  # else already replaced by a newer version
                self.redis_by_group.setdefault(group, []).append(int(written) - last)
