"""`sportsfeat generate` into the real broker: what lands is exactly what the generator says.

The same command with `--output file` writes the ground truth (every delivery and its
fault); the Kafka topics must hold exactly those deliveries, byte-level faults undecodable.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from flink_jobs.avro_decoder import ConfluentAvroDecoder, DecodeError
from flink_jobs.generator import BYTE_FAULTS, TOPICS
from flink_jobs.registry import RegistryClient, schema_for_topic
from flink_jobs.settings import PROJECT_ROOT, Settings

OPTIONS = ["--seed", "11", "--count", "3000", "--users", "500", "--rate", "500",
           "--start-ms", "1790000000000", "--duplicate-share", "0.05",
           "--malformed-share", "0.03"]  # fmt: skip


def generate(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flink_jobs.cli", "generate", *OPTIONS, *args],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def read_all(stack: Settings, topic: str) -> list[bytes | None]:
    consumer = Consumer({"bootstrap.servers": stack.kafka_bootstrap, "group.id": "it-read"})
    try:
        values = []
        for p in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            consumer.assign([TopicPartition(topic, p, low)])
            while low < high:
                msg = consumer.poll(5)
                assert msg is not None, f"{topic}[{p}] stopped at {low} of {high}"
                values.append(msg.value())
                low = (msg.offset() or 0) + 1
        return values
    finally:
        consumer.close()


def test_generated_records_match_the_ground_truth(
    stack: Settings, unique: str, tmp_path: Path
) -> None:
    prefix = f"it.{unique}."
    registry = RegistryClient(stack.registry_url)
    for topic in TOPICS:
        registry.register(f"{prefix}{topic}-value", schema_for_topic(topic).canonical())
    generate("--output", "file", "--path", str(tmp_path / "truth.jsonl"))
    generate("--topic-prefix", prefix)

    truth = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines()]
    expected = Counter((d["topic"], d["fault"] in BYTE_FAULTS) for d in truth)
    assert expected[("fan.interactions", True)] > 0  # some records are broken on purpose
    decoder = ConfluentAvroDecoder(registry)
    found: Counter[tuple[str, bool]] = Counter()
    for topic in TOPICS:
        for raw in read_all(stack, prefix + topic):
            try:
                decoder.decode(raw)
                found[(topic, False)] += 1
            except DecodeError:
                found[(topic, True)] += 1
    assert found == expected
