"""`sportsfeat demo`: the whole pipeline on the local stack, features printed as they arrive.

Schemas registered, topics created, the job started from its compiled plan as `sportsfeat
run` starts it (reused if already running), then a few simulated minutes of fan
interactions are produced at 10x speed while the user activity features are read back from
the Kafka feature topic and from Redis.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis

from flink_jobs.errors import UserError
from flink_jobs.features.catalogue import USER_ACTIVITY
from flink_jobs.generator import GeneratorConfig, interactions
from flink_jobs.job_config import JobConfig
from flink_jobs.online_store import FeatureGroupRef, OnlineStore
from flink_jobs.producer import GovernedProducer
from flink_jobs.serving.client import FeatureClient
from flink_jobs.settings import Settings
from flink_jobs.topic_tail import Record, as_ms, newest_event_time, tail_batches
from flink_jobs.upgrade import Context, deploy

SIMULATED_MINUTES = 4
SPEEDUP = 10.0
EVENTS_PER_SECOND = 40.0
MINUTE_MS = 60_000
SOURCE = USER_ACTIVITY.source


def _produce_paced(producer: GovernedProducer, events: list[dict[str, Any]], start_ms: int) -> None:
    """Send events so that simulated time runs SPEEDUP times faster than the wall clock."""
    wall_start = time.monotonic()
    for event in events:
        delay = (event["event_time"] - start_ms) / 1000 / SPEEDUP - (time.monotonic() - wall_start)
        if delay > 0:
            producer.flush()
            time.sleep(delay)
        producer.send(event)
    producer.flush()


def _hhmm(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M")


def _demo_events(config: JobConfig) -> tuple[int, list[dict[str, Any]]]:
    # Continue after the newest event already in the topic, so a second run is not late data.
    newest = newest_event_time(config.bootstrap, config.registry_url, SOURCE.topic, "event_time")
    start_ms = max(int(time.time() * 1000) - SIMULATED_MINUTES * MINUTE_MS, (newest or 0) + 1000)
    end_ms = start_ms + SIMULATED_MINUTES * MINUTE_MS
    cfg = GeneratorConfig(
        seed=start_ms, users=300, start_ms=start_ms, events_per_second=EVENTS_PER_SECOND
    )
    events = list(itertools.takewhile(lambda e: e["event_time"] < end_ms, interactions(cfg)))
    return start_ms, events


def _show_window(
    window_end: int,
    rows: list[Record],
    store: OnlineStore,
    ref: FeatureGroupRef,
    say: Callable[[str], None],
) -> None:
    window = f"{_hhmm(window_end - MINUTE_MS)}-{_hhmm(window_end)} UTC"
    say(f"  window {window}: {len(rows)} users (Kafka)")
    top = sorted(rows, key=lambda r: -int(r[1]["user_interactions_count_1m"]))[:3]
    for user, value in top:
        stored = _wait_for_redis(store, ref, user, window_end)
        age = (time.time() * 1000 - int(stored["_written_at_ms"])) / 1000 if stored else None
        redis_part = (
            f"Redis {stored['user_interactions_count_1m']} / {stored['user_watch_ms_sum_1m']} ms, "
            f"written {age:.1f} s ago"
            if stored and age is not None
            else "Redis already holds a newer window"
        )
        say(
            f"    {user}: {value['user_interactions_count_1m']} interactions, "
            f"{value['user_watch_ms_sum_1m']} ms watched | {redis_part}"
        )


def _wait_for_redis(
    store: OnlineStore, ref: FeatureGroupRef, user: str, window_end: int
) -> dict[str, str] | None:
    for _ in range(20):
        stored = store.read(ref, user)
        if stored and int(stored["_event_time_ms"]) == window_end:
            return stored
        if stored and int(stored["_event_time_ms"]) > window_end:
            return None
        time.sleep(0.25)
    raise UserError(
        f"the writer did not put {user}'s features into Redis: see `sportsfeat stack logs writer`"
    )


def run_demo(settings: Settings, say: Callable[[str], None]) -> None:
    config = JobConfig(bootstrap=settings.kafka_bootstrap, registry_url=settings.registry_url)
    deployment = deploy(Context.live(settings, say), config, selection="")
    say(f"job      {config.job_name} runs as {deployment.job_id} from {deployment.version.plan}")

    start_ms, events = _demo_events(config)
    producer = GovernedProducer(config.bootstrap, config.registry_url, SOURCE.topic, "user_id")
    say(
        f"produce  {len(events)} events: {SIMULATED_MINUTES} simulated minutes from "
        f"{_hhmm(start_ms)} UTC at {SPEEDUP:.0f}x speed into {SOURCE.topic}"
    )
    sender = threading.Thread(target=_produce_paced, args=(producer, events, start_ms), daemon=True)
    sender.start()

    # The last window the watermark can close: it trails the newest event by the delay.
    newest = max(e["event_time"] for e in events)
    delay_ms = int(SOURCE.max_out_of_orderness.total_seconds() * 1000)
    last_window_end = (newest - delay_ms) // MINUTE_MS * MINUTE_MS
    store = OnlineStore(redis.Redis.from_url(settings.redis_url), ttl_ms=0)
    topic = config.feature_topic(USER_ACTIVITY)
    ref = FeatureGroupRef.from_topic(topic)
    say(f"features {topic} (Kafka, read_committed) and Redis, as they arrive:")
    seen: dict[int, list[Record]] = defaultdict(list)
    for batch in tail_batches(config.bootstrap, config.registry_url, topic, False, 60):
        windows: dict[int, list[Record]] = defaultdict(list)
        for key, value in batch:
            windows[as_ms(value["window_end"])].append((key, value))
        for window_end in sorted(windows):
            _show_window(window_end, windows[window_end], store, ref, say)
            seen[window_end] += windows[window_end]
        if last_window_end in seen:
            break
    sender.join()
    if last_window_end not in seen:
        raise UserError(
            "features stopped arriving before the last window closed: see "
            "`sportsfeat stack logs flink` and the job at " + settings.flink_rest_url
        )
    user = max(seen[last_window_end], key=lambda r: int(r[1]["user_interactions_count_1m"]))[0]
    url = f"http://{settings.host}:{settings.api_port}"
    served = FeatureClient(url, next(iter(settings.api_keys.split(",")), None) or None)
    say(f"api      GET {url}/features/{ref.group}/v{ref.version}/{user}")
    say(f"         {json.dumps(served.get(ref.group, ref.version, user))}")
    say(
        f"done: {sum(map(len, seen.values()))} feature rows in {len(seen)} windows; "
        f"Flink web UI {settings.flink_rest_url}, API docs {url}/docs"
    )
