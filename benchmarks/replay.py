"""A lean open-loop replayer: fan.interactions at a fixed rate, pre-encoded, sent on schedule.

    .venv/bin/python -m benchmarks.replay --topic fan.interactions.x --rate 5000 --seconds 120

Event i is due at t0 + i / rate and its event time is that due time (whole ms), so the
schedule and every payload are known before the load starts: `Schedule` and `payloads`
are pure. The events are the benchmark's dataset (benchmarks.dataset, in order, without
disorder), encoded with the registered schema (flink_jobs.producer.WireEncoder: the
Confluent wire format), keyed by user.

`Replayer` sends each payload once its time has come and never waits for the consumer
(open loop, Karimov et al., ICDE 2018). It encodes only a little ahead of the send
position (`ahead_s`), in the slack between sends, so memory stays small and sends come
first. A replayer that falls behind does not stretch the schedule: it sends the late
payloads as soon as it can, with their scheduled event times, and records how late it
was (p50, p99, max), so a report can say the load was not kept. It also records its own
CPU time (time.process_time: librdkafka's threads included, so run it as its own process,
as the command above does, to keep the bench's other threads out of it).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from typing import Protocol

from confluent_kafka import Producer

from benchmarks.dataset import Dataset
from flink_jobs.generator.config import Event
from flink_jobs.producer import WireEncoder
from flink_jobs.settings import load_settings

LEAD_S = 3.0  # a step's first event is due this long after it is planned: time to encode
AHEAD_S = 2.0  # encoded ahead of the send position
CHUNK = 256  # events encoded at a time, between looks at the clock
BATCH = 512  # due payloads sent between looks at the clock

Timed = tuple[int, str, Event]  # due = event time (ms since the epoch), key, event
Payload = tuple[int, bytes, bytes]  # due (ms), key, Confluent wire-format value


@dataclass(frozen=True)
class Schedule:
    """`events` events at `rate` per second from `start_ms`: event i due (and stamped) at
    start_ms + floor(i * 1000 / rate), never after its exact time."""

    rate: float
    start_ms: int
    events: int
    users: int = 100_000
    contents: int = 10_000
    seed: int = 9

    @classmethod
    def step(
        cls, rate: float, seconds: float, now_s: float, lead_s: float = LEAD_S,
        users: int = 100_000, contents: int = 10_000, seed: int = 9,
    ) -> Schedule:  # fmt: skip
        """A load step of `seconds` at `rate`, starting `lead_s` after `now_s`."""
        start_ms = math.ceil((now_s + lead_s) * 1000)
        return cls(rate, start_ms, math.ceil(rate * seconds), users, contents, seed)

    def due_ms(self, index: int) -> int:
        return self.start_ms + int(index * 1000 / self.rate)

    @property
    def end_ms(self) -> int:
        """When the last event is due."""
        return self.due_ms(self.events - 1)

    def dataset(self) -> Dataset:
        """The events' source (its `sampled` picks the entities checked in full)."""
        return Dataset(self.events, self.rate, self.users, self.contents, self.start_ms,
                       self.seed, out_of_order_share=0.0)  # fmt: skip


def timed_events(schedule: Schedule) -> Iterator[Timed]:
    """The dataset's events in order, each stamped with its due time (copies: the
    generator's events are shared). Its own times are a Poisson process at the same rate
    from the same start, so fields derived from them (watch time) stay plausible."""
    for index, event in enumerate(schedule.dataset().stream()):
        due = schedule.due_ms(index)
        yield due, event["user_id"], {**event, "event_time": due}


def payloads(timed: Iterable[Timed], encode: Callable[[Event], bytes]) -> Iterator[Payload]:
    """Keys and values as the bytes that go on the wire, lazily."""
    for due, key, event in timed:
        yield due, key.encode(), encode(event)


class Clock(Protocol):
    def now(self) -> float: ...  # seconds since the epoch

    def sleep(self, seconds: float) -> None: ...


class WallClock:
    """The epoch on a monotonic clock: a clock step (NTP) neither skips nor repeats sends."""

    def __init__(self) -> None:
        self._offset = time.time() - time.monotonic()

    def now(self) -> float:
        return time.monotonic() + self._offset

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Sink(Protocol):
    """What the replayer needs of a confluent_kafka.Producer."""

    def produce(self, topic: str, value: bytes, key: bytes) -> None: ...

    def poll(self, timeout: float) -> int: ...

    def flush(self, timeout: float) -> int: ...


class Lateness:
    """Send lateness as a histogram of whole milliseconds: constant memory for any rate."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.max_ms = 0.0

    def add(self, ms: float) -> None:
        self.counts[int(ms)] += 1
        if ms > self.max_ms:
            self.max_ms = ms

    def quantile(self, q: float) -> float:
        """Nearest rank, like benchmarks.stats.quantile, to the millisecond; 0 when empty."""
        rank = max(1, math.ceil(q * self.counts.total()))
        for ms in sorted(self.counts):
            rank -= self.counts[ms]
            if rank <= 0:
                return float(ms)
        return 0.0


@dataclass(frozen=True)
class ReplayReport:
    sent: int
    first_due_ms: int | None  # of the payloads sent (None: none was)
    last_due_ms: int | None
    started_s: float  # the replayer's clock when it started (encoding ahead) ...
    finished_s: float  # ... and when the last payload was flushed
    late_p50_ms: float  # how long after its due time a payload was handed to the producer
    late_p99_ms: float
    late_max_ms: float
    cpu_s: float  # the replayer's process CPU over the run
    unflushed: int  # still not acknowledged after the final flush

    @property
    def cores(self) -> float:
        """The replayer's average CPU use, in cores."""
        return self.cpu_s / max(self.finished_s - self.started_s, 1e-9)

    def kept(self, late_bound_ms: float) -> bool:
        """Whether the schedule was kept: p99 lateness within the bound, all delivered."""
        return self.late_p99_ms <= late_bound_ms and self.unflushed == 0


class Replayer:
    """Sends payloads on their schedule through `sink` to `topic`; see the module doc."""

    def __init__(
        self, sink: Sink, topic: str, clock: Clock | None = None, *, ahead_s: float = AHEAD_S,
        chunk: int = CHUNK, batch: int = BATCH, cpu: Callable[[], float] = time.process_time,
        flush_s: float = 30.0,
    ) -> None:  # fmt: skip
        self._sink, self._topic = sink, topic
        self._clock = WallClock() if clock is None else clock
        self._ahead_ms, self._chunk, self._batch = ahead_s * 1000, chunk, batch
        self._cpu, self._flush_s = cpu, flush_s
        self._queue: deque[Payload] = deque()  # encoded, not sent yet
        self._late = Lateness()
        self._first_due: int | None = None  # of the payloads sent
        self._last_due: int | None = None

    def run(self, source: Iterable[Payload]) -> ReplayReport:
        """Send every payload, each once due; returns how well the schedule was kept."""
        self._queue.clear()
        self._late, self._first_due, self._last_due = Lateness(), None, None
        cpu, started = self._cpu(), self._clock.now()
        pending = iter(source)
        more, queue = True, self._queue
        while True:
            now_ms = self._clock.now() * 1000
            if queue and queue[0][0] <= now_ms:
                self._send_due(now_ms)
            elif more and (not queue or queue[-1][0] < now_ms + self._ahead_ms):
                more = self._encode_ahead(pending)
            elif queue:
                self._clock.sleep((queue[0][0] - now_ms) / 1000)
            else:
                break
        unflushed = self._sink.flush(self._flush_s)
        late = self._late
        return ReplayReport(
            sent=late.counts.total(),
            first_due_ms=self._first_due,
            last_due_ms=self._last_due,
            started_s=started,
            finished_s=self._clock.now(),
            late_p50_ms=late.quantile(0.5),
            late_p99_ms=late.quantile(0.99),
            late_max_ms=late.max_ms,
            cpu_s=self._cpu() - cpu,
            unflushed=unflushed,
        )

    def _encode_ahead(self, pending: Iterator[Payload]) -> bool:
        """Encode the next chunk; False when the source is exhausted."""
        before = len(self._queue)
        self._queue.extend(islice(pending, self._chunk))
        return len(self._queue) - before == self._chunk

    def _send_due(self, now_ms: float) -> None:
        """Hand up to a batch of due payloads to the producer; each one's lateness is taken
        when the producer has it (a clock read per send, so no batch hides a stall)."""
        queue, produce, late, now = self._queue, self._produce, self._late, self._clock.now
        if self._first_due is None:
            self._first_due = queue[0][0]
        for _ in range(min(self._batch, len(queue))):
            if queue[0][0] > now_ms:
                break
            due, key, value = queue.popleft()
            produce(key, value)
            now_ms = now() * 1000
            late.add(now_ms - due)
            self._last_due = due
        self._sink.poll(0)  # serve delivery reports

    def _produce(self, key: bytes, value: bytes) -> None:
        """Queue one message, waiting while the producer's queue is full."""
        while True:
            try:
                self._sink.produce(self._topic, value, key)
                return
            except BufferError:
                self._sink.poll(0.05)


def kafka_producer(bootstrap: str, failed: list[str]) -> Producer:
    """A producer like the dataset's (idempotent, acks=all, lz4, keyed like Java's), with a
    short linger: batching must not add latency of its own to a freshness measurement."""
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 1_000_000,
            "partitioner": "murmur2_random",
            "delivery.report.only.error": True,
            "log_level": 3,
            "on_delivery": lambda err, _msg: failed.append(str(err)) if err else None,
        }
    )


def main(argv: list[str] | None = None) -> None:
    """One load step to an existing topic; prints its ReplayReport as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", required=True, help="with a registered value schema")
    parser.add_argument("--rate", type=float, required=True, help="events/s")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--contents", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--lead", type=float, default=LEAD_S, help="s until the first send")
    args = parser.parse_args(argv)
    settings = load_settings()
    encode = WireEncoder.from_registry(settings.registry_url, args.topic).encode
    failed: list[str] = []
    producer = kafka_producer(settings.kafka_bootstrap, failed)
    schedule = Schedule.step(args.rate, args.seconds, time.time(), args.lead, args.users,
                             args.contents, args.seed)  # fmt: skip
    report = Replayer(producer, args.topic).run(payloads(timed_events(schedule), encode))
    figures = {**asdict(report), "rate": schedule.rate, "start_ms": schedule.start_ms,
               "cores": report.cores, "failed": len(failed)}  # fmt: skip
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
