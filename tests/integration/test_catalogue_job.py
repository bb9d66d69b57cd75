"""The whole catalogue as one job on the real stack: generated events (out of order within
the bound, with redelivered duplicates) -> Kafka -> every feature group -> feature topics
(read_committed) and Redis, each value equal to the reference's."""

from __future__ import annotations

import time
from typing import Any

import redis

from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.features.model import FeatureGroup, Lifetime
from flink_jobs.online_store import FeatureGroupRef, OnlineStore
from flink_jobs.producer import GovernedProducer
from flink_jobs.settings import Settings
from flink_jobs.submit import cancel, job_state, submit
from flink_jobs.topic_tail import as_ms, tail_batches
from flink_jobs.verify import reference
from flink_jobs.verify.compare import Rows, compare
from tests import timeline
from tests.integration.conftest import eventually, job_topics

FLUSH_USER = "zz_flush"


def _flush_event() -> dict[str, Any]:
    """One event at the current time: its watermark closes every window of the log."""
    return {
        **timeline.build(seed=1, shape=timeline.LogShape(users=1, sessions_per_user=1,
                                                         events_per_session=1))[0],
        "user_id": FLUSH_USER, "content_id": "zz_flush", "team_ids": [], "game_id": None,
        "event_time": int(time.time() * 1000),
    }  # fmt: skip


def _read_group(stack: Settings, topic: str, group: FeatureGroup, want: Rows) -> Rows:
    """The group's committed records until every expected row arrived (lifetime: the last
    update per entity), then three more checkpoints' worth, so duplicates would show."""
    names = [f.name for f in group.features]
    got: Rows = {}
    linger_until: float | None = None
    for batch in tail_batches(stack.kafka_bootstrap, stack.registry_url, topic, True, 120):
        for entity, value in batch:
            key = (entity, as_ms(value["window_start"]), as_ms(value["window_end"]))
            if isinstance(group.window, Lifetime):
                got = {k: v for k, v in got.items() if k[0] != entity}
            else:
                assert key not in got, f"{topic}: {key} written twice"
            got[key] = {n: value[n] for n in names}
        if linger_until is None and want.keys() <= got.keys():
            linger_until = time.monotonic() + 6
        if linger_until is not None and time.monotonic() > linger_until:
            return got
    return got


def test_the_catalogue_job_equals_the_reference(stack: Settings, unique: str) -> None:
    events = [*timeline.build(seed=3), _flush_event()]
    job = job_topics(stack, unique, groups="")
    submission = submit(stack, job.config)
    try:
        eventually(lambda: job_state(stack, submission.job_id) == "RUNNING" or None, 90, "RUNNING")
        producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
        producer.send_all(events)
        store = OnlineStore(redis.Redis.from_url(stack.redis_url), ttl_ms=0)
        failures = []
        for group in CATALOGUE:
            want, late = reference.compute(group, events)
            assert not late
            want = {k: v for k, v in want.items() if not k[0].startswith(FLUSH_USER)}
            got = _read_group(stack, job.config.feature_topic(group), group, want)
            got = {k: v for k, v in got.items() if not k[0].startswith(FLUSH_USER)}
            failures += [f"{group.name}: {p}" for p in compare(group, got, want)[:5]]
            # Redis holds each entity's newest row (a sample of entities).
            ref = FeatureGroupRef.from_topic(job.config.feature_topic(group))
            newest: dict[str, int] = {}
            for entity, _, end in want:
                newest[entity] = max(end, newest.get(entity, end))
            for entity, end in sorted(newest.items())[:5]:
                stored = eventually(
                    lambda r=ref, e=entity, w=end: (  # type: ignore[misc]
                        s if (s := store.read(r, e)) and int(s["_event_time_ms"]) >= w else None
                    ),
                    30,
                    f"{group.name} {entity} in Redis",
                )
                assert int(stored["_event_time_ms"]) == end, f"{group.name} {entity}"
        assert not failures, "\n".join(failures)
    finally:
        cancel(stack, submission.job_id)
