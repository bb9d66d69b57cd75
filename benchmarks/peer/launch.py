"""How a benchmark runs the peer (Quix Streams): its app's command line, and where the rows
of its groups become visible (its Kafka topics and Redis keys)."""

from __future__ import annotations

import json
from pathlib import Path

import redis

from benchmarks import feature_sets, kafka_io
from benchmarks.freshness import Visibility
from benchmarks.peer.venv import APP
from benchmarks.systems import QuixPeer
from flink_jobs.settings import Settings

FETCH_BYTES = 16_384  # see quix_app.py: Application(consumer_extra_config)


def quix_peer(settings: Settings, python: Path, work: Path, name: str, topic: str,
              prefix: str, commit_interval_s: float, processes: int = 1) -> QuixPeer:  # fmt: skip
    """`processes` peer apps reading `topic` in consumer group `name`; rows go to Kafka
    topics and Redis keys starting with `prefix`; state and logs in `work`."""
    spec = work / "peer-spec.json"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(json.dumps(feature_sets.peer_spec()))
    host, port = settings.redis_endpoint
    args = [str(APP), "--spec", str(spec), "--broker", settings.kafka_bootstrap,
            "--registry-url", settings.registry_url, "--topic", topic,
            "--output-prefix", prefix, "--redis-host", host, "--redis-port", str(port),
            "--commit-interval", f"{commit_interval_s:g}",
            "--fetch-bytes", str(FETCH_BYTES)]  # fmt: skip
    return QuixPeer(name, python, args, name, settings.kafka_bootstrap, topic, work, processes)


def visibility(prefix: str) -> Visibility:
    """The peer's groups: JSON rows in `<prefix>.<group>`, the newest window of an entity
    in Redis at `<prefix>:<group>:<entity>`."""
    return Visibility(
        {f"{prefix}.{g.name}": g.name for g in feature_sets.peer_groups()},
        kafka_io.json_decoder,
        stored,
    )


def stored(client: redis.Redis[bytes], topic: str, entity: str) -> tuple[int, int] | None:
    """(window end, written at) of the entity's row in `<prefix>.<group>`, kept by the
    peer's Redis sink as JSON at `<prefix>:<group>:<entity>`."""
    prefix, group = topic.rsplit(".", 1)
    raw = client.get(f"{prefix}:{group}:{entity}")
    if raw is None:
        return None
    value = json.loads(raw)
    return int(value["window_end"]), int(value["_written_at_ms"])
