"""The online store recovers: from a Redis outage without losing values, and by `rebuild`."""

from __future__ import annotations

import time

import redis

from flink_jobs.online_store import WRITTEN_AT, FeatureGroupRef
from flink_jobs.producer import GovernedProducer
from flink_jobs.rebuild import rebuild
from flink_jobs.settings import Settings
from flink_jobs.stack import manager
from flink_jobs.stack.redis_server import Redis
from flink_jobs.stack.writer import OnlineStoreWriter
from tests.integration.conftest import OwnJob, eventually
from tests.integration.events import MINUTE, WindowValue, event, user_activity

Stored = dict[str, dict[str, str]]


def newest_per_user(
    expected: dict[tuple[str, int], WindowValue],
) -> dict[str, tuple[int, WindowValue]]:
    newest: dict[str, tuple[int, WindowValue]] = {}
    for (user, end), value in sorted(expected.items(), key=lambda kv: kv[0][1]):
        newest[user] = (end, value)
    return newest


def stored(stack: Settings, ref: FeatureGroupRef) -> Stored:
    client = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    return {key: client.hgetall(key) for key in client.scan_iter(match=ref.key("*"))}


def matches(values: Stored, ref: FeatureGroupRef, want: dict[str, tuple[int, WindowValue]]) -> bool:
    expected = {
        ref.key(user): (str(end), str(v.interactions), str(v.watch_ms))
        for user, (end, v) in want.items()
    }
    found = {
        key: (h.get("_event_time_ms"), h.get("user_interactions_count_1m"),
              h.get("user_watch_ms_sum_1m"))
        for key, h in values.items()
    }  # fmt: skip
    return found == expected


def test_redis_outage_and_rebuild(stack: Settings, job: OwnJob) -> None:
    ref = FeatureGroupRef.from_topic(job.feature_topic)
    t0 = (int(time.time() * 1000) // MINUTE - 30) * MINUTE
    before = [
        event("ann", t0, 1, "complete", 4_000),
        event("bob", t0, 2),
        event("ann", t0, 70),  # closes [t0, t0 + 1 min)
    ]
    during = [
        event("bob", t0, 80, "pause", 9_000),
        event("cat", t0, 90),
        event("ann", t0, 130),  # closes [t0 + 1 min, t0 + 2 min)
    ]
    expected_before, _ = user_activity(before)
    expected, _ = user_activity(before + during)
    producer = GovernedProducer(job.bootstrap, job.registry_url, job.source_topic, "user_id")

    producer.send_all(before)
    eventually(
        lambda: matches(stored(stack, ref), ref, newest_per_user(expected_before)) or None,
        60,
        "the first window in Redis",
    )
    writer_pid = OnlineStoreWriter(stack).processes()[0].pid()

    # Redis goes away while new windows close; the writer waits, and nothing is lost.
    Redis(stack).stop()
    producer.send_all(during)
    time.sleep(3 * job.checkpoint_interval_s)  # the new window is committed to Kafka meanwhile
    manager.up(stack, print)
    eventually(
        lambda: matches(stored(stack, ref), ref, newest_per_user(expected)) or None,
        60,
        "Redis to catch up after the outage",
    )
    assert OnlineStoreWriter(stack).processes()[0].pid() == writer_pid  # no restart, no crash

    # Rebuild: wipe the group and replay its feature topic; the store comes back exactly.
    before_rebuild = stored(stack, ref)
    applied = rebuild(stack, [job.feature_topic], wipe=True, say=print)
    after_rebuild = stored(stack, ref)
    assert applied >= len(before_rebuild)
    strip = {k: {f: v for f, v in h.items() if f != WRITTEN_AT} for k, h in before_rebuild.items()}
    assert {
        k: {f: v for f, v in h.items() if f != WRITTEN_AT} for k, h in after_rebuild.items()
    } == strip
