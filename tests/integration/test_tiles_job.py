"""Engine v2 on the real stack: generated events (out of order within the bound, with
redelivered duplicates) -> Kafka -> one tile function per entity kind -> the tile streams
(Avro, registry, read_committed) -> the writer -> Redis. The tiles, merged on read, serve what
the reference says at every tile edge and at random request times: the stream's tiles over a
replayed log of last January, Redis's over a log of the last minutes (the online store keeps
what reads within `online.READ_BACK` of the watermark select), and so does the stack's
feature API at those times (`?at=`)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import httpx
import redis

from flink_jobs import deployments
from flink_jobs.features.model import FeatureGroup
from flink_jobs.flink_http import get_json
from flink_jobs.producer import GovernedProducer
from flink_jobs.serving.client import FeatureClient
from flink_jobs.settings import Settings
from flink_jobs.submit import cancel, job_state, submit
from flink_jobs.tiles import codec, online
from flink_jobs.tiles.compile import TILED_CATALOGUE, split
from flink_jobs.tiles.layout import tile_ms
from flink_jobs.topic_tail import tail_batches
from flink_jobs.upgrade import Change, Context, deploy, upgrade
from flink_jobs.writer import Writer
from tests import timeline
from tests.integration.conftest import eventually, job_topics, remove_job
from tests.tiles_check import Tiles, mismatches, request_times, served_mismatches

FLUSH = "zz_flush"
MINUTE = 60_000


def _flush_event() -> dict[str, Any]:
    """One event at the current time: its watermark closes every tile of the logs."""
    shape = timeline.LogShape(users=1, sessions_per_user=1, events_per_session=1)
    return {
        **timeline.build(seed=1, shape=shape)[0],
        "user_id": FLUSH, "content_id": FLUSH, "team_ids": [], "game_id": FLUSH,
        "event_time": _now_ms(),
    }  # fmt: skip


def _squeezed(log: list[dict[str, Any]], start_ms: int, span_ms: int) -> list[dict[str, Any]]:
    """The log's event times squeezed into [start, start + span) (same arrival order, its
    disorder shrunk with it)."""
    times = [e["event_time"] for e in log]
    lo, width = min(times), max(times) - min(times)
    return [{**e, "event_time": start_ms + (e["event_time"] - lo) * span_ms // width} for e in log]


def _recent_log() -> list[dict[str, Any]]:
    """A timeline squeezed into the 5 minutes that ended a minute ago."""
    shape = timeline.LogShape(users=10, contents=8, sessions_per_user=1, events_per_session=12)
    return _squeezed(timeline.build(seed=6, shape=shape), _now_ms() - 6 * MINUTE, 5 * MINUTE)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _read_tiles(stack: Settings, topic: str, linger_s: float = 6, until: str = FLUSH) -> Tiles:
    """Each tile's newest version, until entity `until`'s tile came and `linger_s` more
    passed."""
    tiles: Tiles = {}
    linger_until: float | None = None
    for batch in tail_batches(stack.kafka_bootstrap, stack.registry_url, topic, True, 60):
        for entity, update in batch:
            for tile in update["tiles"]:
                by_start = tiles.setdefault(tile["feature_group"], {}).setdefault(entity, {})
                by_start[tile["tile_start"]] = codec.decode(tile["tile"])
            if entity == until and linger_until is None:
                linger_until = time.monotonic() + linger_s
        if linger_until is not None and time.monotonic() > linger_until:
            break
    return tiles


def _stored_tiles(client: redis.Redis[bytes], entities: set[str]) -> Tiles:
    """The tiles in Redis of `entities`, per group."""
    tiles: Tiles = {}
    for group in TILED_CATALOGUE:
        for entity in entities:
            fields = client.hgetall(online.key(group, entity))
            found = {int(k): codec.decode(v) for k, v in fields.items() if k[:1] != b"_"}
            if found:
                tiles.setdefault(group.table, {})[entity] = found
    return tiles


def _api_mismatches(
    stack: Settings, entities: set[str], events: list[dict[str, Any]], recent: list[dict[str, Any]]
) -> list[str]:
    """What the stack's feature API serves at request times the recent log spans (those
    within the `at` range it accepts) against the reference, one batch per read."""
    failures = []
    key = stack.api_keys.split(",")[0] or None
    with FeatureClient(f"http://{stack.host}:{stack.api_port}", api_key=key) as client:
        for group in TILED_CATALOGUE:

            def answers(t: int, group: FeatureGroup = group) -> dict[str, Any]:
                batch = client.get_batch(group.name, group.version, sorted(entities), at=t)
                return {answer["entity_id"]: answer["features"] for answer in batch}

            oldest = time.time() * 1000 - online.READ_BACK.total_seconds() * 1000 + MINUTE
            times = [t for t in request_times(group, recent) if oldest <= t <= time.time() * 1000]
            checked, found = served_mismatches(group, answers, events, times)
            assert checked > 20, f"{group.table}: only {checked} non-empty reads by the API"
            failures += [f"{group.table} by the API: {p}" for p in found[:5]]
    return failures


def _entities(log: list[dict[str, Any]]) -> set[str]:
    return {e[column] for e in log for column in ("user_id", "content_id", "game_id") if e[column]}


def test_the_tiles_in_kafka_and_redis_serve_what_the_reference_says(
    stack: Settings, unique: str
) -> None:
    log = timeline.build(seed=5)
    groups = ",".join(f"{g.name}.v{g.version}" for g in TILED_CATALOGUE)
    job = job_topics(stack, unique, groups=groups)
    client = redis.Redis.from_url(stack.redis_url)
    submission = submit(stack, job.config)
    try:
        eventually(lambda: job_state(stack, submission.job_id) == "RUNNING" or None, 90, "RUNNING")
        recent = _recent_log()
        # Tile keys are the groups' own: earlier runs' offsets are of other topics.
        entities = _entities(log) | _entities(recent)
        client.delete(*(online.key(g, e) for g in TILED_CATALOGUE for e in entities))
        producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
        producer.send_all([*log, *recent, _flush_event()])
        events, failures = [*log, *recent], []
        topics = []
        for kind in split(job.config.feature_groups())[1]:
            topics.append(job.config.tile_topic(kind))
            tiles = _read_tiles(stack, topics[-1])
            for group in kind.groups:
                by_entity = {e: t for e, t in tiles.get(group.table, {}).items() if e != FLUSH}
                times = request_times(group, log)
                checked, found = mismatches(group, by_entity, events, times)
                assert checked > 50, f"{group.table}: only {checked} non-empty reads"
                failures += [f"{group.table} in Kafka: {p}" for p in found[:5]]
        Writer(stack.kafka_bootstrap, stack.registry_url, stack.redis_url, f"it-{unique}").run(
            topics, until_caught_up=True
        )
        stored = _stored_tiles(client, _entities(recent))
        for group in TILED_CATALOGUE:
            times = request_times(group, recent)
            checked, found = mismatches(group, stored.get(group.table, {}), events, times)
            assert checked > 20, f"{group.table}: only {checked} non-empty reads in Redis"
            failures += [f"{group.table} in Redis: {p}" for p in found[:5]]
        failures += _api_mismatches(stack, _entities(recent), events, recent)
        assert not failures, "\n".join(failures)
    finally:
        cancel(stack, submission.job_id)


def test_a_burst_into_partitions_quiet_past_the_idle_timeout_has_nothing_late(
    stack: Settings, unique: str
) -> None:
    """Issue #16 item 8: into a running job whose four source partitions have been quiet for
    longer than the idle timeout, a burst of 4,000 events of 40 users covering 6 minutes of
    event time (disorder under 3 s, inside the 5 s bound) in one go, watermarks periodic as
    in production: no event is judged late, and every tile serves what the reference says."""
    job = job_topics(
        stack, unique, "user_activity.v2", source_partitions=4, watermark_emit="on-periodic"
    )
    (kind,) = split(job.config.feature_groups())[1]
    (group,) = kind.groups
    quiet_s = group.source.idle_timeout.total_seconds() + 5
    submission = submit(stack, job.config)
    try:
        eventually(lambda: job_state(stack, submission.job_id) == "RUNNING" or None, 90, "RUNNING")
        time.sleep(30 + quiet_s)  # the tasks start reading, then every partition goes idle
        shape = timeline.LogShape(users=40, sessions_per_user=1, events_per_session=100)
        burst = _squeezed(timeline.build(seed=8, shape=shape), _now_ms() - 8 * MINUTE, 6 * MINUTE)
        producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
        producer.send_all([*burst, _flush_event()])
        # the flush event's partition alone moves on: the others must go quiet first
        tiles = _read_tiles(stack, job.config.tile_topic(kind), linger_s=quiet_s + 6)
        late_rows = tail_batches(
            stack.kafka_bootstrap, stack.registry_url, job.config.late_topic(group), True, 5
        )
        late = [row for batch in late_rows for _, row in batch]
        assert not late, f"{len(late)} in-bound events judged late, e.g. {late[:3]}"
        by_entity = {e: t for e, t in tiles.get(group.table, {}).items() if e != FLUSH}
        checked, found = mismatches(group, by_entity, burst)
        assert checked > 50, f"only {checked} non-empty reads"
        assert not found, "\n".join(found[:10])
    finally:
        cancel(stack, submission.job_id)


def _lag_aware_metrics(stack: Settings, job_id: str) -> list[str]:
    """The running job's metrics of connector kafka-lag-aware (group lagAware)."""
    with httpx.Client(timeout=20) as http:
        base = f"{stack.flink_rest_url}/jobs/{job_id}"
        ids = []
        for vertex in get_json(http, base)["vertices"]:
            metrics = get_json(http, f"{base}/vertices/{vertex['id']}/metrics")
            ids += [m["id"] for m in metrics if ".lagAware." in m["id"]]
    return ids


def test_a_v2_job_switches_its_sources_idleness_through_savepoints_keeping_its_state(
    stack: Settings, unique: str
) -> None:
    """`upgrade --idleness` both ways (Flink's idle timeout -> kafka-lag-aware -> back): the
    source and tile state carry over (never --allowNonRestoredState), so the tiles open across
    each switch count the events from both sides, and every tile is the reference's."""
    job = job_topics(stack, unique, "user_activity.v2")
    (kind,) = split(job.config.feature_groups())[1]
    (group,) = kind.groups
    topic = job.config.tile_topic(kind)
    log = timeline.build(seed=9, shape=timeline.LogShape(users=6, sessions_per_user=2))
    phases = [log[i * len(log) // 3 : (i + 1) * len(log) // 3] for i in range(3)]
    ctx = Context.live(stack, print)
    producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
    try:
        deploy(ctx, replace(job.config, idleness="flink"), selection=job.config.groups)
        switches = ("lag-aware", "flink", None)  # after each phase; None: the last phase
        for n, (phase, idleness) in enumerate(zip(phases, switches, strict=True)):
            newest = max(e["event_time"] for e in phase)  # the marker is on time
            marker = {**phase[-1], "user_id": f"zz_mark{n}", "event_id": f"mark-{n}-{unique}"}
            marker["event_time"] = newest  # the phase was read once the marker's tile came
            producer.send_all([*phase, marker])
            phase.append(marker)
            _read_tiles(stack, topic, linger_s=0, until=marker["user_id"])
            if idleness is None:
                break
            after = upgrade(ctx, job.job_name, Change(idleness=idleness))
            assert after.version.job_config().idleness == idleness
            assert deployments.upgrade_log(stack)[-1]["outcome"] == "upgraded"
            metrics = _lag_aware_metrics(stack, after.job_id)
            assert bool(metrics) == (idleness == "lag-aware"), metrics
        producer.send_all([_flush_event()])
        events = [e for phase in phases for e in phase]
        tiles = _read_tiles(stack, topic)
        by_entity = {e: t for e, t in tiles.get(group.table, {}).items() if e != FLUSH}
        across = _tiles_across(group, phases)
        assert across, "no tile is open across a switch: the test would not see lost state"
        checked, found = mismatches(group, by_entity, events)
        assert checked > 50, f"only {checked} non-empty reads"
        assert not found, "\n".join(found[:10])
    finally:
        remove_job(stack, job.job_name)


def _tiles_across(group: FeatureGroup, phases: list[list[dict[str, Any]]]) -> set[tuple[str, int]]:
    """The (user, tile start) of `group`'s tiles with events from two phases."""
    size = tile_ms(group.window)
    seen: dict[tuple[str, int], set[int]] = {}
    for n, phase in enumerate(phases):
        for e in phase:
            seen.setdefault((e["user_id"], e["event_time"] // size * size), set()).add(n)
    return {tile for tile, ns in seen.items() if len(ns) > 1}
