"""The generator: reproducible, schema-valid, realistic shapes, and faults it owns up to."""

from __future__ import annotations

import itertools
import json
import tracemalloc
import uuid
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastavro import parse_schema
from fastavro.validation import validate

from flink_jobs.generate_cmd import generate
from flink_jobs.generator import (
    EVENT_TYPES,
    GAME_EVENTS,
    INTERACTIONS,
    SESSION_GAP_MS,
    SIGNALS,
    TOPICS,
    Delivery,
    Fault,
    GeneratorConfig,
    deliveries,
    events,
    interactions,
)
from flink_jobs.generator.world import normalize_query
from flink_jobs.registry import schema_for_topic
from flink_jobs.settings import Settings

MINUTE = 60_000
GOALS = {"football", "hockey", "baseball"}  # rare scores, unlike baskets or runs
# Slow fan activity over ~14 simulated hours: games run from start to final.
LONG = GeneratorConfig(seed=3, users=300, events_per_second=1.0, games=12, count=50_000)


def take(cfg: GeneratorConfig, n: int) -> list[Delivery]:
    return list(itertools.islice(deliveries(cfg), n))


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    cfg = GeneratorConfig(seed=1, games=3, duplicate_share=0.1, malformed_share=0.1)
    first = json.dumps(take(cfg, 3000))
    assert first == json.dumps(take(cfg, 3000))
    assert first != json.dumps(take(GeneratorConfig(seed=2, games=3), 3000))


def test_faults_leave_the_ground_truth_alone() -> None:
    noisy = GeneratorConfig(seed=4, out_of_order_share=0.2, late_share=0.1, duplicate_share=0.1)
    assert list(events(GeneratorConfig(seed=4, count=3000))) == list(
        events(replace(noisy, count=3000))
    )


def test_every_event_fits_its_schema_and_the_docs() -> None:
    schemas = {topic: parse_schema(schema_for_topic(topic).schema()) for topic in TOPICS}
    seen: Counter[str] = Counter()
    for topic, key, event in events(LONG):
        assert validate(event, schemas[topic], raise_errors=True)
        seen[topic] += 1
        uuid.UUID(event["event_id"])
        assert topic == GAME_EVENTS or event["device"] in {"ios", "android", "web", "tv", "console"}
        if topic == INTERACTIONS:
            assert key == event["user_id"] != ""
            uuid.UUID(event["session_id"])
            assert event["event_type"] in EVENT_TYPES
            assert event["content_type"] in {"video", "clip", "article", "live_stream"}
            assert event["app_surface"] in {
                "home", "search", "game_center", "team_page", "player", "notification"
            }  # fmt: skip
            assert min(event["watch_time_ms"], event["position_ms"]) >= 0
            assert len(event["team_ids"]) <= 2
            assert (event["game_id"] is not None) == (event["content_id"].startswith("live-")
                                                      or "-h" in event["content_id"])  # fmt: skip
            if event["content_type"] == "article":
                assert event["position_ms"] == event["watch_time_ms"] == 0
        elif topic == SIGNALS:
            assert key == event["user_id"]
            assert (event["target_id"] is None) == (event["signal"] == "search")
            assert (event["query"] is None) != (event["signal"] == "search")
            if event["query"] is not None:
                assert event["query"] == normalize_query(event["query"])
        else:
            assert key == event["game_id"]
            assert event["kind"] in {
                "start", "score_change", "period_start", "period_end", "highlight", "final"
            }  # fmt: skip
    assert min(seen.values()) > 100, seen


def test_normalized_queries() -> None:
    assert normalize_query("  Atlético   MADRID ") == "atletico madrid"
    assert normalize_query("Djoković") == "djokovic"


def test_games_keep_score_period_and_clock_consistent() -> None:
    feeds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for topic, _key, event in events(LONG):
        if topic == GAME_EVENTS:
            feeds[event["game_id"]].append(event)
    finished = [feed for feed in feeds.values() if feed[-1]["kind"] == "final"]
    assert len(finished) >= 3
    for feed in finished:
        assert [e["kind"] for e in feed[:2]] == ["start", "period_start"]
        assert [e["seq"] for e in feed] == list(range(1, len(feed) + 1))
        for before, after in itertools.pairwise(feed):
            assert after["event_time"] >= before["event_time"]
            assert after["home_score"] >= before["home_score"] >= 0
            assert after["away_score"] >= before["away_score"] >= 0
            assert after["period"] >= before["period"] >= 1
            if after["period"] == before["period"] and after["kind"] != "final":
                assert after["clock_s"] >= before["clock_s"] >= 0
        scored = sum(e["kind"] == "score_change" for e in feed)
        assert (feed[-1]["home_score"] + feed[-1]["away_score"] > 0) == (scored > 0)


def test_viewing_bursts_after_score_changes() -> None:
    views: dict[str, list[int]] = defaultdict(list)
    scores: list[tuple[str, int]] = []
    for topic, _key, event in events(LONG):
        if topic == INTERACTIONS and event["game_id"]:
            views[event["game_id"]].append(event["event_time"])
        elif topic == GAME_EVENTS and event["kind"] == "score_change" and event["sport"] in GOALS:
            scores.append((event["game_id"], event["event_time"]))
    assert len(scores) > 10
    before = sum(t - MINUTE <= v < t for g, t in scores for v in views[g])
    after = sum(t <= v < t + MINUTE for g, t in scores for v in views[g])
    assert after > 1.5 * before


def test_highlight_clips_are_watched_only_after_the_highlight() -> None:
    highlights: Counter[str] = Counter()
    watched = 0
    for topic, _key, event in events(LONG):
        if topic == GAME_EVENTS and event["kind"] == "highlight":
            highlights[event["game_id"]] += 1
        elif topic == INTERACTIONS and event["content_type"] == "clip" and event["game_id"]:
            number = int(event["content_id"].rsplit("-h", 1)[1])
            assert number < highlights[event["game_id"]]
            watched += 1
    assert watched > 100


def test_sequence_numbers_are_gap_free_per_key_on_every_topic() -> None:
    seqs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for topic, key, event in events(LONG):
        seqs[topic, key].append(event["seq"])
    assert {topic for topic, _ in seqs} == set(TOPICS)
    for numbers in seqs.values():
        assert numbers == list(range(1, len(numbers) + 1))


def test_sessions_end_after_30_idle_minutes() -> None:
    cfg = GeneratorConfig(seed=5, users=40, events_per_second=0.05, games=0, count=4000)
    last: dict[str, tuple[int, str]] = {}
    splits = continued = 0
    for topic, user, event in events(cfg):
        if topic != INTERACTIONS:
            continue
        if user in last:
            time, session = last[user]
            if event["event_time"] - time > SESSION_GAP_MS:
                assert event["session_id"] != session
                splits += 1
            else:
                assert event["session_id"] == session
                continued += 1
        last[user] = event["event_time"], event["session_id"]
    assert splits > 10 and continued > 10
    sessions = Counter(e["session_id"] for t, _, e in events(cfg) if t == INTERACTIONS)
    assert len(sessions) > splits  # new ids, never reused


def test_popularity_is_skewed_towards_few_contents_and_users() -> None:
    views = [e for e in itertools.islice(interactions(GeneratorConfig(games=0)), 20_000)]
    contents = sorted(Counter(e["content_id"] for e in views).values(), reverse=True)
    assert sum(contents[:20]) > 0.4 * len(views)  # top 10 % of 200 contents: > 40 % of views
    users = sorted(Counter(e["user_id"] for e in views).values(), reverse=True)
    assert sum(users[:100]) > 0.3 * len(views) and len(users) > 900  # head and long tail


def test_millions_of_users_cost_no_memory_up_front() -> None:
    tracemalloc.start()
    try:
        views = list(itertools.islice(interactions(GeneratorConfig(users=10_000_000)), 2000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 30_000_000
    assert max(int(e["user_id"][1:]) for e in views) > 100_000


def test_diurnal_curve_quiet_at_night_busy_in_the_evening() -> None:
    day = GeneratorConfig(events_per_second=0.5, games=0, diurnal=True, duration_ms=86_400_000)
    hours = Counter(e["event_time"] // 3_600_000 for _, _, e in events(day))
    assert hours[20] > 3 * hours[3]
    assert 0.9 * 43_200 < sum(hours.values()) < 1.1 * 43_200  # the mean rate stays the rate


def test_count_and_duration_end_the_stream() -> None:
    assert len(list(events(GeneratorConfig(count=1234)))) == 1234
    timed = list(events(GeneratorConfig(start_ms=MINUTE, duration_ms=MINUTE)))
    assert 2000 < len(timed) < 4000
    assert all(MINUTE <= e["event_time"] < 2 * MINUTE for _, _, e in timed)


def originals(delivered: list[Delivery]) -> list[Delivery]:
    return [d for d in delivered if d[3] in (None, Fault.OUT_OF_ORDER, Fault.LATE)]


def test_disorder_stays_within_the_configured_bound() -> None:
    cfg = GeneratorConfig(out_of_order_share=0.3, mean_disorder_ms=1000, max_disorder_ms=3000)
    newest = behind = 0
    for _topic, _key, event, fault in take(cfg, 20_000):
        time = event["event_time"]
        assert time >= newest - 3000
        behind += time < newest
        assert (time < newest) <= (fault is Fault.OUT_OF_ORDER)  # only delayed ones are behind
        newest = max(newest, time)
    assert behind > 1000


def test_late_events_exceed_the_bound_at_the_requested_share() -> None:
    cfg = GeneratorConfig(late_share=0.05, late_bound_ms=5000, count=40_000)
    delivered = list(deliveries(cfg))
    newest, late = 0, 0
    for _topic, _key, event, fault in delivered[:-500]:  # the tail is flushed, not late
        time = event["event_time"]
        assert (time < newest - 5000) == (fault is Fault.LATE)
        late += fault is Fault.LATE
        newest = max(newest, time)
    assert 0.04 < late / 39_500 < 0.06
    # Delivered, however late: no event lost, every seq once.
    assert sorted(e["event_id"] for _, _, e, _ in delivered) == sorted(
        e["event_id"] for _, _, e in events(cfg)
    )


def test_duplicates_repeat_event_id_and_seq_shortly_after() -> None:
    cfg = GeneratorConfig(duplicate_share=0.1, duplicate_max_delay_ms=2000, count=20_000)
    delivered = list(deliveries(cfg))
    first_seen: dict[str, int] = {}
    duplicates = 0
    for position, (_topic, _key, event, fault) in enumerate(delivered):
        if fault is Fault.DUPLICATE:
            duplicates += 1
            original = delivered[first_seen[event["event_id"]]][2]
            assert original == event and original["seq"] == event["seq"]
        else:
            assert event["event_id"] not in first_seen
            first_seen[event["event_id"]] = position
    assert 1600 < duplicates < 2400
    per_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for topic, key, event, _ in originals(delivered):
        per_key[topic, key].append(event["seq"])
    assert all(sorted(s) == list(range(1, len(s) + 1)) for s in per_key.values())


def test_malformed_values_are_schema_valid_but_forbidden() -> None:
    schema = parse_schema(schema_for_topic(INTERACTIONS).schema())
    cfg = GeneratorConfig(malformed_share=0.2, count=5000)
    broken = [(e, f) for _, _, e, f in deliveries(cfg) if f not in (None, Fault.DUPLICATE)]
    kinds = Counter(f for _, f in broken)
    assert set(kinds) == set(cfg.malformed_kinds)
    for event, fault in broken:
        assert validate(event, schema, raise_errors=True)
        assert {
            Fault.NEGATIVE_WATCH_TIME: event["watch_time_ms"] < 0,
            Fault.EMPTY_USER_ID: event["user_id"] == "",
            Fault.UNKNOWN_EVENT_TYPE: event["event_type"] not in EVENT_TYPES,
            Fault.FUTURE_EVENT_TIME: event["event_time"] > 365 * 24 * 3_600_000,
        }.get(fault, True)


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="out_of_order_share must be between 0 and 1"):
        GeneratorConfig(out_of_order_share=1.5)
    with pytest.raises(ValueError, match="mean_disorder_ms must not exceed"):
        GeneratorConfig(mean_disorder_ms=5000, max_disorder_ms=3000)
    with pytest.raises(ValueError, match="malformed_kinds must be among"):
        GeneratorConfig(malformed_kinds=(Fault.DUPLICATE,))


def run(*args: str) -> Any:
    return CliRunner().invoke(generate, list(args), obj=Settings())


def test_generate_to_a_file_with_a_summary(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    result = run("--output", "file", "--path", str(path), "--count", "2000",
                 "--duplicate-share", "0.1", "--malformed-share", "0.1",
                 "--malformed-kind", "truncated_payload", "--start-ms", "0")  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    faults = Counter(line["fault"] for line in lines)
    assert faults[None] == 2000 and faults["duplicate"] > 100 and faults["truncated_payload"] > 50
    assert {line["topic"] for line in lines} == {INTERACTIONS, SIGNALS, GAME_EVENTS}
    assert f"{len(lines)} events" in result.output and "duplicate" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "5", "--duration", "5"], "give --count or --duration, not both"),
        (["--output", "file"], "--output file needs --path"),
        (["--late-share", "2"], "2.0 is not in the range 0.0<=x<=1.0"),
        (["--mean-disorder-ms", "9000"], "mean_disorder_ms must not exceed max_disorder_ms"),
        (["--malformed-kind", "bogus"], "'bogus' is not one of"),
    ],
)
def test_generate_refuses_bad_options(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_generate_to_kafka_needs_the_registry() -> None:
    result = CliRunner().invoke(generate, [], obj=Settings(registry_port=1999))
    assert "does not answer" in str(result.exception)
