"""Online-store benchmarks on the running local stack (`sportsfeat stack up` first):

  writer     features/s the writer applies from a feature topic to Redis
  serving    feature-API latency at a fixed request rate (open loop: latency counts from the
             moment a request was due, so a slow server cannot hide queueing)
  freshness  window close -> value visible in the Kafka feature topic and in Redis, for the
             user-activity job on live, real-time events

.venv/bin/python -m benchmarks.online_store [writer|serving|freshness|all] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import time
import uuid

import redis
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro import parse_schema, schemaless_reader

from benchmarks.report import Metric, write
from flink_jobs import pipeline
from flink_jobs.features.catalogue import USER_ACTIVITY
from flink_jobs.generator import GeneratorConfig, interactions
from flink_jobs.job_config import JobConfig
from flink_jobs.online_store import FeatureGroupRef
from flink_jobs.producer import GovernedProducer
from flink_jobs.rebuild import clear
from flink_jobs.registry import RegistryClient, schema_for_topic
from flink_jobs.settings import Settings, load_settings
from flink_jobs.stack import manager
from flink_jobs.stack.writer import OnlineStoreWriter
from flink_jobs.submit import cancel, submit
from flink_jobs.topic_tail import as_ms
from flink_jobs.topics import ensure_topics
from flink_jobs.writer import Writer

GROUP_TOPIC = "features.user_activity.v1"
FEATURE_SCHEMA = parse_schema(schema_for_topic(GROUP_TOPIC).schema())


def _feature_records(n: int, t0: int) -> list[tuple[bytes, dict[str, object]]]:
    return [
        (f"b{i:08d}".encode(), {
            "user_id": f"b{i:08d}", "window_start": t0, "window_end": t0 + 60_000,
            "user_interactions_count_1m": i % 97, "user_watch_ms_sum_1m": i * 13,
        })
        for i in range(n)
    ]  # fmt: skip


def bench_writer(settings: Settings, features: int, runs: int) -> list[Metric]:
    """Pre-fill a fresh feature topic in one transaction, then time a writer draining it.

    The stack's own writer follows every feature topic, so it is paused meanwhile.
    """
    OnlineStoreWriter(settings).stop()
    topic = f"features.bench_{uuid.uuid4().hex[:8]}.v1"
    ensure_topics(settings.kafka_bootstrap, [topic], partitions=3)
    registry = RegistryClient(settings.registry_url)
    registry.register(f"{topic}-value", schema_for_topic(GROUP_TOPIC).canonical())
    serialize = AvroSerializer(
        SchemaRegistryClient({"url": settings.registry_url}),
        schema_for_topic(GROUP_TOPIC).canonical(),
        conf={"auto.register.schemas": False, "use.latest.version": True},
    )
    ctx = SerializationContext(topic, MessageField.VALUE)
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap,
                         "transactional.id": f"bench-{topic}", "linger.ms": 20})  # fmt: skip
    producer.init_transactions()
    producer.begin_transaction()
    for key, value in _feature_records(features, int(time.time() * 1000) // 60_000 * 60_000):
        producer.produce(topic, serialize(value, ctx), key)
        producer.poll(0)
    producer.commit_transaction()
    rates = []
    for run in range(runs):
        clear(settings.redis_url, FeatureGroupRef.from_topic(topic))
        writer = Writer(settings.kafka_bootstrap, settings.registry_url, settings.redis_url,
                        group_id=f"bench-writer-{uuid.uuid4().hex[:8]}")  # fmt: skip
        started = time.perf_counter()
        writer.run([topic], until_caught_up=True)
        elapsed = time.perf_counter() - started
        if writer.applied != features:
            raise RuntimeError(f"writer applied {writer.applied} of {features} features")
        rates.append(features / elapsed)
        print(f"writer run {run + 1}: {features} features in {elapsed:.2f} s", flush=True)
    clear(settings.redis_url, FeatureGroupRef.from_topic(topic))
    manager.up(settings, print)
    return [Metric.of("writer", "features applied to Redis", "features/s", rates)]


async def _open_loop(
    host: str, port: int, requests: list[bytes], rate: float, seconds: float, connections: int
) -> list[float]:
    """Send requests[i % len] at t0 + i / rate over keep-alive connections; latencies in ms."""
    total = int(rate * seconds)
    queues: list[asyncio.Queue[tuple[float, bytes] | None]] = [
        asyncio.Queue() for _ in range(connections)
    ]
    latencies: list[float] = []

    async def connection(queue: asyncio.Queue[tuple[float, bytes] | None]) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        while (item := await queue.get()) is not None:
            due, request = item
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))  # fmt: skip
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode(errors="replace").splitlines()[0])
            latencies.append((time.perf_counter() - due) * 1000)
        writer.close()

    workers = [asyncio.create_task(connection(q)) for q in queues]
    start = time.perf_counter() + 0.2
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queues[i % connections].put_nowait((due, requests[i % len(requests)]))
    for queue in queues:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return latencies


def bench_serving(settings: Settings, seconds: float, runs: int) -> list[Metric]:
    """p50/p99 of single-entity requests at 1,000/s, 100-entity batches at 1,000/s and 100/s."""
    ref = FeatureGroupRef("user_activity", 1)
    client = redis.Redis.from_url(settings.redis_url)
    now = int(time.time() * 1000)
    users = [f"bench{i:05d}" for i in range(10_000)]
    pipe = client.pipeline(transaction=False)
    for user in users:
        pipe.hset(ref.key(user), mapping={
            "user_id": user, "user_interactions_count_1m": 5, "user_watch_ms_sum_1m": 500,
            "_event_time_ms": now, "_window_start_ms": now - 60_000, "_window_end_ms": now,
            "_written_at_ms": now,
        })  # fmt: skip
    pipe.execute()
    host, port = settings.host, settings.api_port
    key = settings.api_keys.split(",")[0]
    auth = f"X-API-Key: {key}\r\n" if key else ""
    single = [
        f"GET /features/user_activity/v1/{u} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode()
        for u in users
    ]
    batches = []
    for i in range(0, len(users), 100):
        body = json.dumps({"entity_ids": users[i : i + 100]}).encode()
        batches.append(
            f"POST /features/user_activity/v1/batch HTTP/1.1\r\nHost: {host}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    metrics = []
    for name, requests, rate in (
        ("single entity", single, 1000.0),
        ("100-entity batch", batches, 1000.0),
        ("100-entity batch", batches, 100.0),
    ):
        p50s, p99s = [], []
        for run in range(runs):
            lat = asyncio.run(_open_loop(host, port, requests, rate, seconds, connections=16))
            qs = statistics.quantiles(lat, n=100)
            p50s.append(qs[49])
            p99s.append(qs[98])
            print(f"serving {name} run {run + 1}: p50 {qs[49]:.2f} ms, p99 {qs[98]:.2f} ms "
                  f"({len(lat)} requests at {rate:.0f}/s)", flush=True)  # fmt: skip
        metrics += [
            Metric.of("feature API", f"{name} p50 at {rate:.0f} req/s", "ms", p50s),
            Metric.of("feature API", f"{name} p99 at {rate:.0f} req/s", "ms", p99s),
        ]
    client.delete(*(ref.key(u) for u in users))
    return metrics


def bench_freshness(settings: Settings, minutes: int, events_per_second: float) -> list[Metric]:
    """Real-time events into a fresh job; for each feature row, the delay from the earliest
    moment its window could close (window end + watermark delay) to visibility."""
    suffix = uuid.uuid4().hex[:6]
    name = f"bench-fresh-{suffix}"
    config = JobConfig(
        bootstrap=settings.kafka_bootstrap,
        registry_url=settings.registry_url,
        groups=USER_ACTIVITY.name,
        namespace=f"fresh{suffix}",
        consumer_group=name,
        job_name=name,
    )
    source_topic = config.source_topic(USER_ACTIVITY.source)
    feature_topic = config.feature_topic(USER_ACTIVITY)
    pipeline.prepare(settings, config, print)
    job_id = submit(settings, config).job_id
    consumer = Consumer(
        {"bootstrap.servers": settings.kafka_bootstrap, "group.id": name,
         "isolation.level": "read_committed", "auto.offset.reset": "earliest"}
    )  # fmt: skip
    consumer.subscribe([feature_topic])
    producer = GovernedProducer(config.bootstrap, config.registry_url, source_topic, "user_id")
    generated = interactions(GeneratorConfig(seed=1, users=2_000, start_ms=0,
                                             events_per_second=events_per_second))  # fmt: skip
    store = redis.Redis.from_url(settings.redis_url)
    ref = FeatureGroupRef.from_topic(feature_topic)
    close_delay = USER_ACTIVITY.source.max_out_of_orderness.total_seconds() * 1000
    kafka_ms: list[float] = []
    visible: dict[str, int] = {}
    deadline = time.time() + minutes * 60
    try:
        for event in generated:
            now = time.time()
            if now > deadline:
                break
            producer.send({**event, "event_time": int(now * 1000)})
            for msg in consumer.consume(num_messages=1000, timeout=0):
                if not msg.error():
                    window_end = _window_end_ms(msg.value())
                    kafka_ms.append(time.time() * 1000 - (window_end + close_delay))
                    visible[(msg.key() or b"").decode()] = window_end
            time.sleep(max(0.0, 1 / events_per_second - (time.time() - now)))
        producer.flush()
        redis_ms: list[float] = []
        for user, window_end in visible.items():
            written = store.hget(ref.key(user), "_written_at_ms")
            event_time = store.hget(ref.key(user), "_event_time_ms")
            if written and event_time and int(event_time) == window_end:
                redis_ms.append(int(written) - (window_end + close_delay))
    finally:
        consumer.close()
        cancel(settings, job_id)
    print(f"freshness: {len(kafka_ms)} rows in Kafka, {len(redis_ms)} newest values in Redis")
    return [
        Metric.of("user_activity job", f"window close -> Kafka {q}", "ms", [_q(kafka_ms, q)])
        for q in ("p50", "p99", "max")
    ] + [
        Metric.of("user_activity job", f"window close -> Redis {q}", "ms", [_q(redis_ms, q)])
        for q in ("p50", "p99", "max")
    ]


def _q(values: list[float], which: str) -> float:
    if which == "max":
        return max(values)
    return statistics.quantiles(values, n=100)[49 if which == "p50" else 98]


def _window_end_ms(raw: bytes | None) -> int:
    """The window end of a feature record (Confluent framing: magic byte and 4-byte schema id)."""
    value = schemaless_reader(io.BytesIO((raw or b"")[5:]), FEATURE_SCHEMA, None)
    return as_ms(value["window_end"])  # type: ignore[index,call-overload]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "which", nargs="?", default="all", choices=["writer", "serving", "freshness", "all"]
    )
    parser.add_argument("--quick", action="store_true", help="short runs, to try the benchmark")
    args = parser.parse_args()
    settings = load_settings()
    runs = 1 if args.quick else 3
    metrics: list[Metric] = []
    if args.which in ("writer", "all"):
        metrics += bench_writer(settings, 20_000 if args.quick else 200_000, runs)
    if args.which in ("serving", "all"):
        metrics += bench_serving(settings, 3 if args.quick else 15, runs)
    if args.which in ("freshness", "all"):
        metrics += bench_freshness(settings, 1 if args.quick else 3, 200)
    print(write(f"online-store-{args.which}", metrics).read_text())


if __name__ == "__main__":
    main()
