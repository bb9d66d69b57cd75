"""The online-store writer: applies every Kafka feature topic and tile stream to Redis.

A stateless follower of ``features.<group>.v<version>`` (v1: window values) and
``tiles.<kind>.v<version>`` (engine v2: tiles, `flink_jobs.tiles.online`), subscribed by
pattern, so a new group is picked up without a restart. It applies a whole poll batch in
one pipelined round trip of guarded writes per store, and commits offsets only after Redis
has accepted what they cover, at most once a second. A crash therefore replays at most a second of
batches, which the guard makes harmless; a Redis outage stalls the writer with backoff,
losing nothing.

It reads the job's records as soon as they are written, before their transaction commits
(``read_uncommitted``): waiting for the commit would add the job's checkpoint interval to
every feature's freshness. A transaction the job aborts (it failed before its checkpoint)
is followed in the same partition by the windows it held, recomputed after the restart,
and the guard lets a later write of the same window replace an earlier one: Redis ends with
the committed value. Kafka consumers of the feature topics, and `rebuild`, read committed
records only.
"""

from __future__ import annotations

import logging
import signal
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from flink_jobs.avro_decoder import ConfluentAvroDecoder
from flink_jobs.feature_groups import feature_group
from flink_jobs.kafka_poll import ready
from flink_jobs.logs import configure_process
from flink_jobs.online_store import FeatureGroupRef, FeatureRow, OnlineStore
from flink_jobs.registry import RegistryClient, RegistryUnavailable
from flink_jobs.settings import Settings, load_settings
from flink_jobs.tiles.online import TileStore, TileWrite, progress_of, writes_of
from flink_jobs.writer_metrics import STATS_INTERVAL_MS, WriterMetrics

log = logging.getLogger("sportsfeat.writer")
WRITER_GROUP = "sportsfeat-online-store-writer"
TOPIC_PATTERNS = [r"^features\.[a-z0-9_]+\.v[0-9]+$", r"^tiles\.[a-z0-9_]+\.v[0-9]+$"]
HEARTBEAT_KEY = "sportsfeat:writer:heartbeat"
WINDOW_FIELDS = ("window_start", "window_end")
MAX_BACKOFF_S = 10.0
# Offset commits and heartbeats at most this often: rows arrive in small batches as the job
# writes them, and a synchronous commit per batch cost more CPU than the batch itself.
COMMIT_EVERY_S = 1.0
DEFAULT_TTL = timedelta(hours=24)


def _ms(value: Any) -> int:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else int(value)


def to_row(topic: str, key: bytes | None, value: dict[str, Any]) -> FeatureRow:
    """A decoded feature record as a store row: the key is the entity, windows become metadata."""
    if not key:
        raise ValueError("feature record without a key (entity id)")
    features = {k: v for k, v in value.items() if k not in WINDOW_FIELDS and v is not None}
    return FeatureRow(
        ref=FeatureGroupRef.from_topic(topic),
        entity_id=key.decode(),
        event_time_ms=_ms(value["window_end"]),
        window_start_ms=_ms(value["window_start"]),
        features=features,
    )


@dataclass
class Batch:
    """A poll batch's records as writes: v1 rows and tile writes, in offset order."""

    rows: list[FeatureRow] = field(default_factory=list)
    tiles: list[TileWrite] = field(default_factory=list)

    def add(self, topic: str, key: bytes | None, offset: int, value: dict[str, Any]) -> None:
        if topic.startswith("tiles."):
            self.tiles += writes_of(value, offset)
        else:
            self.rows.append(to_row(topic, key, value))


class Writer:
    def __init__(
        self,
        bootstrap: str,
        registry_url: str,
        redis_url: str,
        group_id: str = WRITER_GROUP,
        *,
        committed_only: bool = False,
        kafka_security: Mapping[str, str] | None = None,
        registry_user_info: str = "",
        redis_password: str = "",
    ) -> None:
        self.metrics = WriterMetrics()
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": group_id,
                "isolation.level": "read_committed" if committed_only else "read_uncommitted",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "topic.metadata.refresh.interval.ms": 2000,  # see new feature topics quickly
                "statistics.interval.ms": STATS_INTERVAL_MS,  # consumer lag for the metrics
                "stats_cb": self.metrics.on_stats,
                "logger": logging.getLogger("sportsfeat.writer.kafka"),  # librdkafka's log too
                **(kafka_security or {}),
            }
        )
        self._decoder = ConfluentAvroDecoder(RegistryClient(registry_url, registry_user_info))
        self._redis = redis.Redis.from_url(
            redis_url, socket_timeout=5, password=redis_password or None
        )
        self._store = OnlineStore(self._redis, ttl_ms)
        self._tile_store = TileStore(self._redis)
        self._running = True
        self._beat_at = 0.0
        self.applied = 0
        self.rejected = 0

    def stop(self, *_: object) -> None:
        self._running = False

    def _batch(self, messages: list[Message]) -> Batch:
        batch = Batch()
        read: Counter[str] = Counter()
        for msg in messages:
            error, topic = msg.error(), msg.topic() or ""
            if error is not None:
                if error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:  # no feature topic yet
                    log.warning("consumer error: %s", error, extra={"topic": topic or None})
                continue
            read[topic] += 1
            if msg.value() is None:  # a tombstone: compaction's business, no value to store
                continue
            try:
                batch.add(topic, msg.key(), msg.offset() or 0, self._decode(msg.value()))
            except RegistryUnavailable:
                raise  # stopped while waiting: leave without committing this batch
            except Exception as exc:  # noqa: BLE001 - one bad record must not stop the writer
                self.rejected += 1
                self.metrics.rejected(topic)
                where = {"topic": topic, "partition": msg.partition(), "offset": msg.offset()}
                log.error("rejected a feature record: %s", exc, extra=where)
        self.metrics.read(read)
        return batch

    def _decode(self, value: bytes | None) -> dict[str, Any]:
        """Decode, waiting out a registry outage with backoff (an outage is not bad data:
        rejecting the record would lose its update)."""
        backoff = 0.5
        while True:
            try:
                return self._decoder.decode(value)
            except RegistryUnavailable as exc:
                self.metrics.registry_error()
                if not self._running:
                    raise
                log.warning("registry unavailable (%s); retrying in %.1f s", exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def _apply(self, batch: Batch) -> bool:
        """Write until Redis accepts the batch, backing off while it is down; False if the
        writer was stopped first (the batch is not applied). Applying a batch again is
        harmless (both stores' guards), so a failure part way simply retries it whole."""
        backoff = 0.5
        while self._running:
            try:
                started, now_ms = time.perf_counter(), int(time.time() * 1000)
                applied = self._store.apply(batch.rows, now_ms)
                self.metrics.written(batch.rows, applied, time.perf_counter() - started, now_ms)
                started = time.perf_counter()
                progress = progress_of(batch.tiles)
                tiles_applied = self._tile_store.apply(batch.tiles, progress, now_ms)
                seconds = time.perf_counter() - started
                self.metrics.written(batch.tiles, tiles_applied, seconds, now_ms)
                self.applied += sum(applied) + sum(tiles_applied)
                if time.monotonic() - self._beat_at >= COMMIT_EVERY_S:
                    self._redis.set(HEARTBEAT_KEY, now_ms, px=30_000)
                    self._beat_at = time.monotonic()
                return True
            except redis.RedisError as exc:
                self.metrics.redis_error(exc)
                log.warning("redis write failed (%s); retrying in %.1f s", exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        return False

    def _commit(self) -> None:
        """Commit the offsets read. A failed commit (e.g. a feature topic deleted since the
        poll) only means these batches may be applied again, which the guard makes harmless:
        the writer goes on rather than crash."""
        try:
            self._consumer.commit(asynchronous=False)
        except KafkaException as exc:
            self.metrics.commit_failed()
            log.warning("offset commit failed (%s); the batch may be applied again", exc)

    def run(self, topics: list[str] | None = None, until_caught_up: bool = False) -> None:
        """Follow `topics` (default: every feature topic and tile stream, by pattern) until
        stopped, or only until every partition is read to the end it had when the run began."""
        self._consumer.subscribe(topics or TOPIC_PATTERNS)
        log.info("following %s", ", ".join(topics or TOPIC_PATTERNS))
        ends = _end_offsets(self._consumer, topics) if until_caught_up and topics else {}
        pending, committed_at = False, time.monotonic()  # applied, offsets not committed yet
        try:
            while self._running:
                messages = ready(self._consumer, 1000, 0.5)
                if not self._apply(self._batch(messages)):
                    pending = False  # stopped with this batch unapplied: it must be read again
                    break
                pending = pending or any(not m.error() for m in messages)
                if pending and time.monotonic() - committed_at >= COMMIT_EVERY_S:
                    self._commit()
                    pending, committed_at = False, time.monotonic()
                if until_caught_up and (not messages and _reached(self._consumer, ends)):
                    break
            if pending:  # not after an exception: its batch may be unapplied
                self._commit()
        finally:
            self._consumer.close()
            log.info("stopped: %d values applied, %d records rejected", self.applied, self.rejected)


def _end_offsets(consumer: Consumer, topics: list[str]) -> dict[tuple[str, int], int]:
    ends = {}
    for topic in topics:
        for partition in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            ends[(topic, partition)] = high
    return ends


def _reached(consumer: Consumer, ends: dict[tuple[str, int], int]) -> bool:
    """Whether every partition is read up to the end it had at the start. Feature topics are
    written in transactions, so their last offset is a commit marker, never a record."""
    if not consumer.assignment():
        return False
    for tp in consumer.position([TopicPartition(t, p) for t, p in ends]):
        end = ends[(tp.topic, tp.partition)]
        if end > 0 and tp.offset < end - 1:  # also a negative offset: nothing read yet
            return False
    return True


def ttl_ms(ref: FeatureGroupRef) -> int:
    """A group's TTL from the catalogue; groups outside it (e.g. test groups) get the default."""
    group = feature_group(ref.group, ref.version)
    return int((group.ttl if group else DEFAULT_TTL).total_seconds() * 1000)


def run_writer(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, serving metrics on the writer's metrics port."""
    configure_process(settings)
    writer = Writer(
        settings.kafka_bootstrap,
        settings.registry_url,
        settings.redis_url,
        kafka_security=settings.kafka_security(),
        registry_user_info=settings.registry_user_info,
        redis_password=settings.redis_password,
    )
    writer.metrics.serve(settings.host, settings.writer_metrics_port)
    signal.signal(signal.SIGTERM, writer.stop)
    signal.signal(signal.SIGINT, writer.stop)
    writer.run()


if __name__ == "__main__":
    run_writer(load_settings())
