"""`sportsfeat demo`: the whole pipeline on the local stack, features printed as they arrive.

Schemas registered, topics created, the job started from its compiled plan as `sportsfeat
run` starts it (reused if already running), then a few simulated minutes of fan
interactions are produced at 10x speed while the user activity features are read back from
the Kafka feature topic (each window once) and from Redis; it ends with one user's whole
feature vector as the API serves it and what to try next.
"""

from __future__ import annotations

import itertools
import textwrap
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis

from flink_jobs.errors import UserError
from flink_jobs.features.catalogue import CATALOGUE, USER_ACTIVITY
from flink_jobs.features.model import FeatureGroup, Session
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


class WindowCollector:
    """Feature rows by window, each window handed out once, when all its rows are visible.

    A window fires at once in the job and its rows commit in one Kafka transaction, but a
    poll may return only part of them: a window is complete when a later window shows up or
    a poll finds nothing more to read.
    """

    def __init__(self) -> None:
        self._pending: dict[int, list[Record]] = defaultdict(list)
        self.shown: set[int] = set()

    def add(self, batch: list[Record]) -> list[tuple[int, list[Record]]]:
        """The windows this poll's `batch` completes, oldest first."""
        for key, value in batch:
            window_end = as_ms(value["window_end"])
            if window_end not in self.shown:
                self._pending[window_end].append((key, value))
        newest = max(self._pending, default=0)
        done = sorted(w for w in self._pending if not batch or w < newest)
        self.shown.update(done)
        return [(w, self._pending.pop(w)) for w in done]


def _show_window(
    window_end: int,
    rows: list[Record],
    store: OnlineStore,
    ref: FeatureGroupRef,
    say: Callable[[str], None],
) -> None:
    window = f"{_hhmm(window_end - MINUTE_MS)}-{_hhmm(window_end)} UTC"
    say(f"  window {window}: {len(rows)} users (Kafka); the 3 most active, and Redis:")
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
            f"    {user:12} {value['user_interactions_count_1m']:>3} interactions, "
            f"{value['user_watch_ms_sum_1m']:>7} ms watched | {redis_part}"
        )


def entity_of(group: FeatureGroup, events: list[dict[str, Any]]) -> str | None:
    """The entity of `group` most frequent in `events` (their keys joined by ':')."""
    counts: Counter[str] = Counter()
    for event in events:
        rows = [event]
        if group.explode is not None:
            array, element = group.explode
            rows = [{**event, element: item} for item in event.get(array) or ()]
        for row in rows:
            key = [row.get(name) for name in group.keys]
            if None not in key:
                counts[":".join(map(str, key))] += 1
    return counts.most_common(1)[0][0] if counts else None


def _why_missing(group: FeatureGroup) -> str:
    if isinstance(group.window, Session):
        gap = int(group.window.gap.total_seconds() // 60)
        return f"a session is served once it has closed, {gap} min after its last event"
    return "none of its windows has closed yet"


def show_vector(
    client: FeatureClient, user: str, events: list[dict[str, Any]], say: Callable[[str], None]
) -> None:
    """Every group's features for `user` as the API serves them: the user's own groups and
    those of the content, game and team the user engaged with most."""
    say(f"vector   every feature group for {user}, as the API serves it:")
    mine = [e for e in events if e["user_id"] == user]
    for group in CATALOGUE:
        entity = entity_of(group, mine)
        if entity is None:
            continue
        served = client.get(group.name, group.version, entity)
        status = served["status"]
        head = f"  {group.name:19} v{group.version} {group.entity:10} {entity:28} {status}"
        if status == "missing":
            say(f"{head} ({_why_missing(group)})")
            continue
        say(f"{head}, window from {served['window_start']}, {served['age_ms'] / 1000:.1f} s old")
        values = ", ".join(f"{k}={v}" for k, v in served["features"].items())
        say(textwrap.fill(values, width=100, initial_indent=" " * 4, subsequent_indent=" " * 4))


def _next_steps(settings: Settings, api_url: str, user: str) -> list[str]:
    return [
        "next     try:",
        "  sportsfeat status                  jobs, checkpoints, lag, freshness, dead letters",
        f"  sportsfeat features {user} --group user_engagement_5m",
        f"  {api_url}/docs  the feature API (OpenAPI), GET and batch reads",
        f"  {settings.flink_rest_url:27} the Flink web UI: the job, its operators, checkpoints",
        "  ./dev demo                         again: more events, the same job",
        "  sportsfeat stack down              stop the stack (state kept; --purge deletes it)",
    ]


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
    windows = WindowCollector()
    rows: list[Record] = []
    for batch in tail_batches(config.bootstrap, config.registry_url, topic, False, 60):
        for window_end, window_rows in windows.add(batch):
            _show_window(window_end, window_rows, store, ref, say)
            rows += window_rows
        if last_window_end in windows.shown:
            break
    sender.join()
    if last_window_end not in windows.shown:
        raise UserError(
            "features stopped arriving before the last window closed: see "
            "`sportsfeat stack logs flink` and the job at " + settings.flink_rest_url
        )
    last = [(user, value) for user, value in rows if as_ms(value["window_end"]) == last_window_end]
    user = max(last, key=lambda r: int(r[1]["user_interactions_count_1m"]))[0]
    url = f"http://{settings.host}:{settings.api_port}"
    with FeatureClient(url, next(iter(settings.api_keys.split(",")), None) or None) as client:
        show_vector(client, user, events, say)
    say(f"done     {len(rows)} user_activity rows in {len(windows.shown)} windows")
    for line in _next_steps(settings, url, user):
        say(line)
