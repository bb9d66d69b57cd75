"""The benchmark's peer: Quix Streams computing the windowed features it can express.

Runs in its own virtual environment (benchmarks/peer/requirements.txt; Quix Streams cannot
share the project's, see benchmarks.peer.venv) and imports nothing from the project: what
to compute comes as a JSON spec derived from the catalogue (benchmarks.feature_sets).

Per group: the Avro events (decoded through the registry, event time from the value), one
derived column per feature (its value, or None where the feature's filter rejects the row),
re-keyed by the group's entity when it is not the message key (`group_by`), a tumbling or
hopping window with the job's 5 s bound as grace, closed per partition (as a watermark
would) and emitted once when closed (`final`), written as JSON to a Kafka topic and to
Redis (Quix's RedisSink, which writes on each checkpoint). Settings are Quix's defaults
(at-least-once, changelog topics, RocksDB state) except those passed on the command line.
On exit it prints one JSON line: late events dropped per group.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from quixstreams import Application
from quixstreams.dataframe.windows import Count, Max, Mean, Min, Sum
from quixstreams.models.serializers.avro import AvroDeserializer
from quixstreams.models.serializers.schema_registry import SchemaRegistryClientConfig
from quixstreams.sinks.community.redis import RedisSink

from benchmarks.peer.rows import Row, as_ms, deriver, holds

AGGREGATIONS = {"count": Count, "sum": Sum, "mean": Mean, "min": Min, "max": Max}
late: Counter[str] = Counter()


def on_late(
    value: Any,
    key: Any,
    timestamp_ms: int,
    late_by_ms: int,
    start: int,
    end: int,
    store_name: str,
    topic: str,
    partition: int,
    offset: int,
) -> bool:
    late[store_name] += 1
    return False  # counted here, not logged per event


def stamped(value: Row) -> str:
    """The sink serializes at write time: the moment a value reaches Redis, near enough."""
    return json.dumps({**value, "_written_at_ms": int(time.time() * 1000)})


def build(app: Application, args: argparse.Namespace, spec: dict[str, Any]) -> None:
    source = app.topic(
        args.topic,
        key_deserializer="str",
        value_deserializer=AvroDeserializer(
            schema_registry_client_config=SchemaRegistryClientConfig(url=args.registry_url)
        ),
        timestamp_extractor=lambda value, _headers, _ts, _type: as_ms(value[spec["event_time"]]),
    )
    events = app.dataframe(source).apply(deriver(spec))
    for group in spec["groups"]:
        name = group["name"]
        branch = events if group["key"] == args.message_key else events.group_by(group["key"])
        if group["where"]:
            branch = branch.filter(lambda row, w=group["where"]: holds(row, w))
        size, slide, grace = group["size_ms"], group["slide_ms"], group["grace_ms"]
        if size == slide:
            window = branch.tumbling_window(size, grace_ms=grace, name=name, on_late=on_late)
        else:
            window = branch.hopping_window(size, slide, grace_ms=grace, name=name, on_late=on_late)
        aggregations = {
            f["name"]: AGGREGATIONS["sum" if f["agg"] == "count" and f["where"] else f["agg"]](
                None if f["agg"] == "count" and not f["where"] else f"{name}.{f['name']}"
            )
            for f in group["features"]
        }
        names = list(aggregations)
        rows = (
            window.agg(**aggregations)
            .final(closing_strategy="partition")
            .apply(
                lambda w, key, _ts, _h, names=names: {
                    "entity": key,
                    "window_start": w["start"],
                    "window_end": w["end"],
                    **{n: w[n] for n in names},
                },
                metadata=True,
            )
        )
        rows = rows.to_topic(
            app.topic(f"{args.output_prefix}.{name}", key_serializer="str", value_serializer="json")
        )
        rows.sink(
            RedisSink(
                args.redis_host,
                args.redis_port,
                0,
                value_serializer=stamped,
                key_serializer=lambda key, _v, n=name: f"{args.output_prefix}:{n}:{key}",
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--broker", required=True)
    parser.add_argument("--registry-url", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--message-key", default="user_id", help="the column the key holds")
    parser.add_argument("--consumer-group", required=True)
    parser.add_argument("--output-prefix", required=True, help="Kafka topic and Redis key prefix")
    parser.add_argument("--redis-host", default="127.0.0.1")
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--commit-interval", type=float, default=5.0)
    parser.add_argument("--fetch-bytes", type=int, default=1_048_576)
    args = parser.parse_args()
    app = Application(
        broker_address=args.broker,
        consumer_group=args.consumer_group,
        auto_offset_reset="earliest",
        commit_interval=args.commit_interval,
        state_dir=args.state_dir,
        loglevel="WARNING",
        # A backlog is fetched in per-partition chunks; Quix has no watermark across
        # partitions, so a chunk larger than the grace period makes re-keyed rows late.
        consumer_extra_config={"max.partition.fetch.bytes": args.fetch_bytes},
    )
    build(app, args, json.loads(args.spec.read_text()))
    app.run()  # until SIGTERM or SIGINT
    print(json.dumps({"late": dict(late)}), flush=True)


if __name__ == "__main__":
    main()
