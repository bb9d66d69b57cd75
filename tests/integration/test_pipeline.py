"""End to end on the real stack: events -> Kafka -> Flink job -> feature topic -> Redis.

The job runs on the stack's Flink cluster, on topics of its own. Expected values come
from flink_jobs/verify/reference.py on the same events, never from the job.
"""

from __future__ import annotations

import time

import redis

from flink_jobs.avro_decoder import ConfluentAvroDecoder
from flink_jobs.online_store import FeatureGroupRef, OnlineStore
from flink_jobs.producer import GovernedProducer
from flink_jobs.registry import RegistryClient
from flink_jobs.settings import Settings
from flink_jobs.topic_tail import as_ms, tail_batches
from tests.integration.conftest import OwnJob, eventually
from tests.integration.events import MINUTE, WindowValue, event, user_activity


def read_features(
    config: OwnJob, until: set[tuple[str, int]]
) -> dict[tuple[str, int], list[WindowValue]]:
    """Every committed feature record from the start of the topic, read until the `until`
    keys have all been seen and then for three more checkpoints, so a duplicate would show."""
    seen: dict[tuple[str, int], list[WindowValue]] = {}
    linger_until: float | None = None
    for batch in tail_batches(
        config.bootstrap, config.registry_url, config.feature_topic, True, 90
    ):
        for user, value in batch:
            key = (user, as_ms(value["window_end"]))
            assert as_ms(value["window_start"]) == key[1] - MINUTE
            seen.setdefault(key, []).append(
                WindowValue(value["user_interactions_count_1m"], value["user_watch_ms_sum_1m"])
            )
        if linger_until is None and until <= seen.keys():
            linger_until = time.monotonic() + 3 * config.checkpoint_interval_s
        if linger_until is not None and time.monotonic() > linger_until:
            return seen
    raise AssertionError(f"feature topic never showed {sorted(until - seen.keys())}")


def test_exact_features_in_kafka_and_redis(stack: Settings, job: OwnJob) -> None:
    t0 = (int(time.time() * 1000) // MINUTE - 30) * MINUTE  # a minute boundary, 30 min ago
    # Timeline (seconds after t0). Windows: w1 [0, 60), w2 [60, 120), w3 [120, 180).
    phase1 = [
        event("ann", t0, 1),
        event("ann", t0, 10, "complete", 30_000),
        event("bob", t0, 20, "pause", 5_000),
        event("ann", t0, 61),  # w2; watermark 56
        event("ann", t0, 58, "pause", 12_000),  # 3 s out of order, within the 5 s bound: w1
        event("bob", t0, 70, "complete", 40_000),  # watermark 65 >= 59.999: w1 closes
        event("bob", t0, 75, "like"),
    ]
    phase2 = [
        event("ann", t0, 30, "click"),  # w1 was already emitted: late, not counted
        event("cat", t0, 125),  # watermark 120: w2 closes
        event("dan", t0, 200),  # watermark 195: w3 closes; dan's own window stays open
    ]
    expected, late = user_activity(phase1 + phase2)
    assert late == [phase2[0]]
    w1, w2, w3 = t0 + MINUTE, t0 + 2 * MINUTE, t0 + 3 * MINUTE
    assert expected == {
        ("ann", w1): WindowValue(3, 42_000),
        ("bob", w1): WindowValue(1, 5_000),
        ("ann", w2): WindowValue(1, 0),
        ("bob", w2): WindowValue(2, 40_000),
        ("cat", w3): WindowValue(1, 0),
    }

    producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")
    producer.send_all(phase1)
    # Phase 2 only after w1 is out, so the late event meets a watermark that has passed it.
    read_features(job, until={("ann", w1), ("bob", w1)})
    producer.send_all(phase2)
    features = read_features(job, until=set(expected))

    # Exactly once: every window exactly once, with exactly the reference values.
    assert features == {key: [value] for key, value in expected.items()}

    # The late event is not lost: it is in the group's late topic, with where it came from.
    [late_record] = next(
        batch
        for batch in tail_batches(job.bootstrap, job.registry_url, job.late_topic, True, 30)
        if batch
    )
    entity, routed = late_record
    assert entity == "ann" and routed["feature_group"] == "user_activity"
    assert as_ms(routed["event_time"]) == phase2[0]["event_time"]
    assert as_ms(routed["watermark"]) > as_ms(routed["event_time"])  # how late: the difference
    assert (routed["source_topic"], routed["source_offset"]) == (job.source_topic, len(phase1))
    decoder = ConfluentAvroDecoder(RegistryClient(job.registry_url))
    assert decoder.decode(routed["original"])["event_id"] == phase2[0]["event_id"]

    # Redis holds each user's newest window, with its window as metadata.
    store = OnlineStore(redis.Redis.from_url(stack.redis_url), ttl_ms=0)
    ref = FeatureGroupRef.from_topic(job.feature_topic)
    for user, window_end in [("ann", w2), ("bob", w2), ("cat", w3)]:
        stored = eventually(
            lambda u=user, w=window_end: (  # type: ignore[misc]
                s if (s := store.read(ref, u)) and int(s["_event_time_ms"]) == w else None
            ),
            30,
            f"{user}'s window ending {window_end} in Redis",
        )
        value = expected[(user, window_end)]
        assert int(stored["user_interactions_count_1m"]) == value.interactions
        assert int(stored["user_watch_ms_sum_1m"]) == value.watch_ms
        assert int(stored["_window_start_ms"]) == window_end - MINUTE
    assert store.read(ref, "dan") is None  # dan's window never closed
