"""Engine v2 on the real stack: generated events (out of order within the bound, with
redelivered duplicates) -> Kafka -> one tile function per entity kind -> the tile streams
(Avro, registry, read_committed), whose tiles, merged on read, serve what the reference says
at every tile edge and at random request times."""

from __future__ import annotations

import time
from typing import Any

from flink_jobs.producer import GovernedProducer
from flink_jobs.settings import Settings
from flink_jobs.submit import cancel, job_state, submit
from flink_jobs.tiles.compile import TILED_CATALOGUE, split
from flink_jobs.topic_tail import tail_batches
from tests import timeline
from tests.integration.conftest import eventually, job_topics
from tests.tiles_check import Tiles, mismatches

FLUSH = "zz_flush"


def _flush_event() -> dict[str, Any]:
    """One event at the current time: its watermark closes every tile of the log."""
    shape = timeline.LogShape(users=1, sessions_per_user=1, events_per_session=1)
    return {
        **timeline.build(seed=1, shape=shape)[0],
        "user_id": FLUSH, "content_id": FLUSH, "team_ids": [], "game_id": FLUSH,
        "event_time": int(time.time() * 1000),
    }  # fmt: skip


def _read_tiles(stack: Settings, topic: str) -> Tiles:
    """Each tile's newest version, until the flush event's tile came and 6 s more passed."""
    tiles: Tiles = {}
    linger_until: float | None = None
    for batch in tail_batches(stack.kafka_bootstrap, stack.registry_url, topic, True, 60):
        for entity, update in batch:
            for tile in update["tiles"]:
                by_start = tiles.setdefault(tile["feature_group"], {}).setdefault(entity, {})
                by_start[tile["tile_start"]] = tile
            if entity == FLUSH and linger_until is None:
                linger_until = time.monotonic() + 6
        if linger_until is not None and time.monotonic() > linger_until:
            break
    return tiles


def test_the_tile_streams_serve_what_the_reference_says(stack: Settings, unique: str) -> None:
    log = timeline.build(seed=5)
    groups = ",".join(f"{g.name}.v{g.version}" for g in TILED_CATALOGUE)
    job = job_topics(stack, unique, groups=groups)
    submission = submit(stack, job.config)
    try:
        eventually(lambda: job_state(stack, submission.job_id) == "RUNNING" or None, 90, "RUNNING")
        producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
        producer.send_all([*log, _flush_event()])
        failures = []
        for kind in split(job.config.feature_groups())[1]:
            tiles = _read_tiles(stack, job.config.tile_topic(kind))
            for group in kind.groups:
                by_entity = {e: t for e, t in tiles.get(group.table, {}).items() if e != FLUSH}
                checked, found = mismatches(group, by_entity, log)
                assert checked > 50, f"{group.table}: only {checked} non-empty reads"
                failures += [f"{group.table}: {p}" for p in found[:5]]
        assert not failures, "\n".join(failures)
    finally:
        cancel(stack, submission.job_id)
