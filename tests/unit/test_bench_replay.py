"""The open-loop replayer without a broker: the schedule and its payloads are pure, the
sending loop runs on a fake clock into a fake producer."""

from __future__ import annotations

import io
import math
import random
import time
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader

from benchmarks.dataset import SOURCE
from benchmarks.replay import (
    Lateness,
    Payload,
    Replayer,
    Schedule,
    WallClock,
    payloads,
    timed_events,
)
from benchmarks.stats import quantile
from flink_jobs.generator.config import Event
from flink_jobs.producer import WireEncoder
from flink_jobs.registry import schema_for_topic
from tests.avro_helpers import without_logical_types

START_S = 1_700_000_000.0
TOPIC = "fan.interactions.replay"


class FakeClock:
    """Whole microseconds, so a sleep always moves time on."""

    def __init__(self, now_s: float) -> None:
        self.us = round(now_s * 1e6)

    def now(self) -> float:
        return self.us / 1e6

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.us += max(1, math.ceil(seconds * 1e6))


class FakeProducer:
    """Records what it is handed and when; `cost_s` per message, `full` BufferErrors first."""

    def __init__(self, clock: FakeClock, cost_s: float = 0.0, full: int = 0) -> None:
        self.clock, self.cost_s, self.full = clock, cost_s, full
        self.sent: list[tuple[float, str, bytes, bytes]] = []
        self.unflushed = 0

    def produce(self, topic: str, value: bytes, key: bytes) -> None:
        if self.full:
            self.full -= 1
            raise BufferError("Local: Queue full")
        if self.cost_s:
            self.clock.advance(self.cost_s)
        self.sent.append((self.clock.now(), topic, key, value))

    def poll(self, timeout: float) -> int:
        if timeout:
            self.clock.advance(timeout)
        return 0

    def flush(self, timeout: float) -> int:
        return self.unflushed


def schedule(rate: float = 1_000, seconds: float = 0.5) -> Schedule:
    """A step planned at START_S: its first event is due 3 s later."""
    return Schedule.step(rate, seconds, START_S, users=500, contents=50)


def stamped(event: Event) -> bytes:
    """A stand-in encoder: the value is the event time, easy to read back."""
    return str(event["event_time"]).encode()


def replay(
    plan: Schedule, producer: FakeProducer, clock: FakeClock, **options: Any
) -> tuple[list[Payload], Any]:
    source = list(payloads(timed_events(plan), stamped))
    return source, Replayer(producer, TOPIC, clock, **options).run(source)


# --- the schedule -------------------------------------------------------------------


def test_event_i_is_due_at_start_plus_i_over_rate_never_later() -> None:
    plan = Schedule(rate=300, start_ms=1_000, events=7)
    assert [plan.due_ms(i) for i in range(7)] == [1_000, 1_003, 1_006, 1_010, 1_013, 1_016, 1_020]
    assert plan.end_ms == 1_020
    step = Schedule.step(500, 2, now_s=100.0004, lead_s=3)
    assert (step.start_ms, step.events, step.end_ms) == (103_001, 1_000, 103_001 + 1_998)


def test_the_events_are_the_datasets_in_order_stamped_with_their_due_time() -> None:
    plan = schedule(rate=2_000, seconds=1)
    timed = list(timed_events(plan))
    assert len(timed) == plan.events == 2_000
    assert [due for due, _, _ in timed] == [plan.due_ms(i) for i in range(plan.events)]
    originals = list(plan.dataset().stream())
    for (due, key, event), original in zip(timed, originals, strict=True):
        assert event == {**original, "event_time": due}
        assert key == original["user_id"]
    assert [o["event_time"] for o in originals] != [due for due, _, _ in timed]  # stamped
    assert timed == list(timed_events(plan)), "the same schedule, the same events"
    assert len({e["event_id"] for _, _, e in timed}) == plan.events


def test_payloads_are_the_wire_bytes_of_the_stamped_events() -> None:
    encoder = WireEncoder(SOURCE, schema_for_topic(SOURCE).schema(), 42)
    reader = parse_schema(without_logical_types(schema_for_topic(SOURCE).schema()))
    plan = schedule(rate=200, seconds=1)
    timed = list(timed_events(plan))
    for (due, key, value), (_, user, event) in zip(
        payloads(timed, encoder.encode), timed, strict=True
    ):
        assert (value[0], int.from_bytes(value[1:5], "big")) == (0, 42)
        decoded = schemaless_reader(io.BytesIO(value[5:]), reader)
        assert isinstance(decoded, dict)
        assert decoded["event_time"] == due == event["event_time"]
        assert decoded["event_id"] == event["event_id"]
        assert key == user.encode()


# --- the sending loop ---------------------------------------------------------------


def test_each_payload_is_sent_when_due_in_order_encoded_only_a_little_ahead() -> None:
    clock = FakeClock(START_S)
    producer = FakeProducer(clock)
    plan = schedule(rate=1_000, seconds=3)
    encoded_at: dict[int, float] = {}

    def encode(event: Event) -> bytes:
        encoded_at[event["event_time"]] = clock.now()
        return stamped(event)

    report = Replayer(producer, TOPIC, clock, ahead_s=0.5, chunk=100).run(
        payloads(timed_events(plan), encode)
    )
    times = [int(value) for _, _, _, value in producer.sent]
    assert times == [plan.due_ms(i) for i in range(plan.events)]
    assert all(at * 1000 == pytest.approx(int(v), abs=0.01) for at, _, _, v in producer.sent)
    assert {topic for _, topic, _, _ in producer.sent} == {TOPIC}
    # One chunk encoded up front, in the lead time; then each payload before it was due,
    # but at most the look-ahead and a chunk (0.1 s) before.
    assert sum(at == START_S for at in encoded_at.values()) == 100
    ahead = [due / 1000 - at for due, at in encoded_at.items() if at > START_S]
    assert len(ahead) == 2_900
    assert all(0 <= a <= 0.5 + 0.1 + 1e-3 for a in ahead)
    assert (report.sent, report.first_due_ms, report.last_due_ms) == (
        3_000, plan.start_ms, plan.end_ms
    )  # fmt: skip
    assert (report.late_p50_ms, report.late_p99_ms) == (0, 0)
    assert report.late_max_ms == pytest.approx(0, abs=0.01)
    assert report.kept(late_bound_ms=1)
    assert report.finished_s == pytest.approx(plan.end_ms / 1000, abs=1e-3)


def test_a_slow_producer_shows_as_lateness_not_as_a_stretched_schedule() -> None:
    clock = FakeClock(START_S)
    producer = FakeProducer(clock, cost_s=0.002)  # 500 sends/s at best, 1,000/s offered
    plan = schedule(rate=1_000, seconds=0.5)
    _, report = replay(plan, producer, clock)
    # Every event is sent, each with its scheduled event time, as soon as the producer can.
    assert [int(v) for _, _, _, v in producer.sent] == [plan.due_ms(i) for i in range(500)]
    sent_at = [t for t, _, _, _ in producer.sent]
    assert sent_at[-1] - sent_at[0] == pytest.approx(2 * 0.499, abs=1e-3)
    # Event i leaves 2 (i + 1) ms after the start instead of i ms: i + 2 ms late.
    assert report.late_max_ms == pytest.approx(501, abs=0.01)
    assert report.late_p99_ms == 496  # the 495th of 500
    assert report.late_p50_ms == 251
    assert not report.kept(late_bound_ms=250)


def test_waiting_for_room_in_the_producers_queue_counts_as_late() -> None:
    clock = FakeClock(START_S)
    producer = FakeProducer(clock, full=2)  # two polls of 50 ms before the first send
    _, report = replay(schedule(rate=100, seconds=1), producer, clock)
    assert report.sent == 100
    assert report.late_max_ms == pytest.approx(100, abs=0.01)
    assert report.late_p99_ms == 90  # the next ones, due 10 ms apart, go out with it


def test_cpu_time_and_unflushed_messages_are_reported() -> None:
    clock = FakeClock(START_S)
    producer = FakeProducer(clock)
    producer.unflushed = 3
    readings = iter([10.0, 12.5])
    _, report = replay(schedule(), producer, clock, cpu=lambda: next(readings))
    assert report.cpu_s == 2.5
    assert report.cores == pytest.approx(2.5 / (report.finished_s - report.started_s))
    assert report.late_max_ms == 0
    assert not report.kept(late_bound_ms=250)


def test_a_replayer_runs_again_from_scratch() -> None:
    clock = FakeClock(START_S)
    replayer = Replayer(FakeProducer(clock, cost_s=0.002), TOPIC, clock)
    late = replayer.run(payloads(timed_events(schedule()), stamped))
    plan = Schedule.step(100, 1, clock.now(), users=500, contents=50)
    again = replayer.run(payloads(timed_events(plan), stamped))
    assert late.late_max_ms > 100
    assert (again.sent, again.first_due_ms) == (100, plan.start_ms)
    assert again.late_max_ms == pytest.approx(2, abs=0.01)  # one send's cost: kept up
    empty = replayer.run([])
    assert (empty.sent, empty.first_due_ms, empty.late_p99_ms) == (0, None, 0)


def test_lateness_quantiles_match_the_benchmarks_nearest_rank() -> None:
    rng = random.Random(5)
    values = [float(rng.randrange(0, 400)) for _ in range(5_000)]
    late = Lateness()
    for value in values:
        late.add(value + 0.4)  # whole milliseconds: the fraction is dropped
    for q in (0.0, 0.5, 0.9, 0.99, 1.0):
        assert late.quantile(q) == quantile(values, q)
    assert late.max_ms == max(values) + 0.4
    assert Lateness().quantile(0.99) == 0


def test_the_wall_clock_is_the_epoch() -> None:
    assert WallClock().now() == pytest.approx(time.time(), abs=0.05)
