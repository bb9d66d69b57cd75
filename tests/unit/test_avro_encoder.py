"""The compiled Avro encoder: the bytes fastavro writes, and stricter about what it takes."""

from __future__ import annotations

import io
import itertools
import math
import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from http import HTTPStatus
from types import MappingProxyType
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer

from flink_jobs.avro_encoder import compile_encoder
from flink_jobs.errors import UserError
from flink_jobs.generator import INTERACTIONS, SIGNALS, TOPICS, Fault, GeneratorConfig, events
from flink_jobs.producer import WireEncoder
from flink_jobs.registry import schema_for_topic
from tests.avro_helpers import without_logical_types

FEATURES = "features.user_activity.v1"
FLOAT_MAX = 3.4028234663852886e38
MILLIS = {"type": "long", "logicalType": "timestamp-millis"}
# Every supported construct; `fields` of the values below.
EDGE_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Edge",
    "namespace": "test",
    "fields": [
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "s", "type": "string"},
        {"name": "raw", "type": "bytes"},
        {"name": "flag", "type": "boolean"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": {"type": "double"}},
        {"name": "ts", "type": MILLIS},
        {"name": "longs", "type": {"type": "array", "items": "long"}},
        {"name": "strings", "type": {"type": "array", "items": "string"}},
        {"name": "null_first", "type": ["null", "long"], "default": None},
        {"name": "null_last", "type": ["string", "null"]},
        {"name": "count", "type": "long", "default": 3},
        {
            "name": "inner",
            "type": {
                "type": "record",
                "name": "Inner",
                "fields": [
                    {"name": "x", "type": ["null", "double"]},
                    {
                        "name": "leaves",
                        "type": {
                            "type": "array",
                            "items": {
                                "type": "record",
                                "name": "Leaf",
                                "fields": [
                                    {"name": "v", "type": "int"},
                                    {"name": "at", "type": ["null", MILLIS]},
                                ],
                            },
                        },
                    },
                ],
            },
        },
    ],
}
EDGE: dict[str, Any] = {
    "i": 0,
    "l": 0,
    "s": "",
    "raw": b"",
    "flag": False,
    "f": 0.0,
    "d": 0.0,
    "ts": 0,
    "longs": [],
    "strings": [],
    "null_first": None,
    "null_last": None,
    "count": 0,
    "inner": {"x": None, "leaves": []},
}


def fastavro_body(schema: Mapping[str, Any], record: Any) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, parse_schema(dict(schema)), record)
    return out.getvalue()


def decoded(schema: Mapping[str, Any], body: bytes) -> Any:
    reader = io.BytesIO(body)
    value = schemaless_reader(reader, parse_schema(without_logical_types(schema)), None)
    assert reader.tell() == len(body), "trailing bytes"
    return value


def as_read(value: Any) -> Any:
    """The value as Avro reads it back: tuples as lists, bytearrays as bytes."""
    if isinstance(value, Mapping):
        return {k: as_read(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_read(item) for item in value]
    if isinstance(value, bytearray):
        return bytes(value)
    return value


def event_samples() -> dict[str, list[dict[str, Any]]]:
    """At least 2,000 generated events per topic, with games under way (game ids set)."""
    cfg = GeneratorConfig(
        seed=3, users=300, events_per_second=0.2, games=30, game_interval_ms=60_000,
        signal_share=0.5, count=12_000, start_ms=1_760_000_000_000,
    )  # fmt: skip
    samples: dict[str, list[dict[str, Any]]] = {topic: [] for topic in TOPICS}
    for topic, _key, event in events(cfg):
        samples[topic].append(event)
    return samples


def feature_records(n: int) -> list[dict[str, Any]]:
    rng = random.Random(11)
    records = []
    for i in range(n):
        start = 1_760_000_000_000 + 60_000 * rng.randrange(-(10**6), 10**6)
        records.append(
            {
                "user_id": rng.choice(["u", "", "ü", "fan-⚽-"]) + str(i),
                "window_start": start,
                "window_end": datetime.fromtimestamp((start + 60_000) / 1000, UTC),
                "user_interactions_count_1m": rng.choice([0, 1, 63, 64, rng.randrange(2**40)]),
                "user_watch_ms_sum_1m": rng.randrange(-(2**63), 2**63),
            }
        )
    return records


SAMPLES = event_samples()


@pytest.mark.parametrize("topic", TOPICS)
def test_generated_events_encode_as_fastavro_does(topic: str) -> None:
    schema = schema_for_topic(topic).schema()
    encode = compile_encoder(schema)
    sample = SAMPLES[topic]
    assert len(sample) >= 2000
    for event in sample:
        body = encode(event)
        assert body == fastavro_body(schema, event)
        assert decoded(schema, body) == as_read(event)


def test_the_samples_take_both_branches_of_every_union() -> None:
    for topic, field in [(INTERACTIONS, "game_id"), (SIGNALS, "target_id"), (SIGNALS, "query")]:
        assert {event[field] is None for event in SAMPLES[topic]} == {True, False}


def test_feature_records_encode_as_fastavro_does() -> None:
    schema = schema_for_topic(FEATURES).schema()
    encode = compile_encoder(schema)
    for record in feature_records(2000):
        body = encode(record)
        assert body == fastavro_body(schema, record)
        millis = (record["window_end"] - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
            milliseconds=1
        )
        assert decoded(schema, body) == {**record, "window_end": millis}


EDGE_CASES: list[dict[str, Any]] = [
    {"i": 2**31 - 1, "l": 2**63 - 1, "ts": 2**63 - 1, "count": 2**31},
    {"i": -(2**31), "l": -(2**63), "ts": -(2**63), "count": -(2**31) - 1},
    *({"i": n, "l": -n, "count": n * 1000} for n in (1, -1, 63, 64, -64, -65, 8191, 8192)),
    {"s": "é", "strings": ["日本語", "⚽", "😀", "a\x00b"], "null_last": "ß"},
    {"s": "x" * 63, "strings": ["y" * 64, "z" * 10_000], "raw": b"\x00\xff" * 100},
    {"raw": bytearray(b"\x80"), "longs": (1, -1), "strings": ("",)},
    {"longs": list(range(-500, 500)), "strings": [str(n) for n in range(70)]},
    {"flag": True, "null_first": 0, "null_last": ""},
    {"null_first": -(2**63), "null_last": "set", "inner": {"x": -0.0, "leaves": []}},
    {"f": -0.0, "d": -0.0},
    {"f": FLOAT_MAX, "d": 1.7976931348623157e308},
    {"f": -FLOAT_MAX, "d": -1.7976931348623157e308},
    {"f": 1e-45, "d": 5e-324},
    {"f": 0.1, "d": 0.1},
    {"f": math.inf, "d": -math.inf},
    {"f": 3, "d": -(2**70)},  # ints where floats go
    {"i": HTTPStatus.OK, "l": HTTPStatus.NOT_FOUND, "s": Fault.LATE},  # int and str subclasses
    {"ts": datetime(2025, 10, 9, 8, 7, 6, 543_210, tzinfo=UTC)},
    {"ts": datetime(2025, 10, 9, 8, 7, 6, 543_999, tzinfo=timezone(timedelta(hours=-7)))},
    {"ts": datetime(1969, 12, 31, 23, 59, 59, 999_500, tzinfo=UTC)},  # floors to -1
    {"ts": datetime(1, 1, 1, tzinfo=UTC)},
    {
        "inner": {
            "x": 2.5,
            "leaves": [
                {"v": -(2**31), "at": None},
                {"v": 2**31 - 1, "at": 1_760_000_000_000},
                {"v": 0, "at": datetime(2024, 2, 29, tzinfo=UTC)},
            ],
        }
    },
    {"inner": MappingProxyType({"x": None, "leaves": range(0)})},
]


@pytest.mark.parametrize("changes", EDGE_CASES)
def test_edge_values_encode_as_fastavro_does(changes: dict[str, Any]) -> None:
    record = {**EDGE, **changes}
    body = compile_encoder(EDGE_SCHEMA)(record)
    assert body == fastavro_body(EDGE_SCHEMA, record)
    back = decoded(EDGE_SCHEMA, body)
    exact = {k: v for k, v in record.items() if k not in ("f", "d", "ts", "inner")}
    assert {k: back[k] for k in exact} == as_read(exact)


def test_nan_is_written_as_fastavro_writes_it() -> None:
    record = {**EDGE, "f": math.nan, "d": math.nan, "inner": {"x": math.nan, "leaves": []}}
    body = compile_encoder(EDGE_SCHEMA)(record)
    assert body == fastavro_body(EDGE_SCHEMA, record)
    assert math.isnan(decoded(EDGE_SCHEMA, body)["d"])


def test_a_missing_field_with_a_default_or_a_null_branch_takes_it() -> None:
    record = {k: v for k, v in EDGE.items() if k not in ("count", "null_first", "null_last")}
    body = compile_encoder(EDGE_SCHEMA)(record)
    assert body == fastavro_body(EDGE_SCHEMA, record)
    assert decoded(EDGE_SCHEMA, body)["count"] == 3


def test_extra_keys_are_ignored_and_any_mapping_is_a_record() -> None:
    encode = compile_encoder(EDGE_SCHEMA)
    assert encode(MappingProxyType({**EDGE, "extra": object()})) == encode(EDGE)


INNER_LEAF = {"x": None, "leaves": [{"v": 1, "at": None}, {"at": None}]}
REFUSED: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"l": None}, TypeError, "field 'l' is not nullable"),
    ({"s": None}, TypeError, "field 's' is not nullable"),
    ({"l": "7"}, TypeError, "field 'l': expected long, got str"),
    ({"l": True}, TypeError, "field 'l': expected long, got bool"),
    ({"l": 1.0}, TypeError, "field 'l': expected long, got float"),
    ({"i": False}, TypeError, "field 'i': expected int, got bool"),
    ({"i": 2.0}, TypeError, "field 'i': expected int, got float"),
    ({"s": 5}, TypeError, "field 's': expected string, got int"),
    ({"s": b"bytes"}, TypeError, "field 's': expected string, got bytes"),
    ({"raw": "text"}, TypeError, "field 'raw': expected bytes, got str"),
    ({"flag": 1}, TypeError, "field 'flag': expected boolean, got int"),
    ({"flag": None}, TypeError, "field 'flag' is not nullable"),
    ({"f": "1.5"}, TypeError, "field 'f': expected float, got str"),
    ({"d": True}, TypeError, "field 'd': expected double, got bool"),
    ({"d": None}, TypeError, "field 'd' is not nullable"),
    ({"ts": "2025-01-01"}, TypeError, "field 'ts': expected long timestamp-millis, got str"),
    ({"ts": 1.5}, TypeError, "field 'ts': expected long timestamp-millis, got float"),
    ({"ts": datetime(2025, 1, 1)}, ValueError, "field 'ts': a naive datetime"),  # noqa: DTZ001
    ({"i": 2**31}, ValueError, "field 'i': 2147483648 is outside the int range"),
    ({"i": -(2**31) - 1}, ValueError, "field 'i': -2147483649 is outside the int range"),
    ({"l": 2**63}, ValueError, "field 'l': 9223372036854775808 is outside the long range"),
    ({"l": -(2**63) - 1}, ValueError, "field 'l': -9223372036854775809 is outside the long"),
    (
        {"ts": 2**63},
        ValueError,
        "field 'ts': 9223372036854775808 is outside the long timestamp-millis range",
    ),
    ({"count": 2**64}, ValueError, "field 'count': 18446744073709551616 is outside"),
    ({"f": 1e39}, ValueError, "field 'f': 1e\\+39 is too large for a float"),
    ({"d": 10**400}, ValueError, "field 'd': 1000.* is too large for a double"),
    ({"longs": "123"}, TypeError, "field 'longs': expected array, got str"),
    ({"longs": {1: 2}}, TypeError, "field 'longs': expected array, got dict"),
    ({"longs": None}, TypeError, "field 'longs' is not nullable"),
    ({"longs": [1, "2"]}, TypeError, r"field 'longs\[\]': expected long, got str"),
    ({"strings": ["a", None]}, TypeError, r"field 'strings\[\]' is not nullable"),
    ({"null_first": "1"}, TypeError, "field 'null_first': expected long, got str"),
    ({"null_last": 1}, TypeError, "field 'null_last': expected string, got int"),
    ({"inner": None}, TypeError, "field 'inner' is not nullable"),
    ({"inner": [1]}, TypeError, "field 'inner': expected record, got list"),
    ({"inner": {"x": None}}, ValueError, "missing required field 'inner.leaves'"),
    ({"inner": {**INNER_LEAF, "x": "0"}}, TypeError, "field 'inner.x': expected double"),
    ({"inner": INNER_LEAF}, ValueError, r"missing required field 'inner.leaves\[\].v'"),
]


@pytest.mark.parametrize(("changes", "error", "message"), REFUSED)
def test_a_value_that_does_not_fit_is_refused_naming_the_field(
    changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        compile_encoder(EDGE_SCHEMA)({**EDGE, **changes})


@pytest.mark.parametrize("field", ["i", "s", "ts", "longs", "inner"])
def test_a_missing_required_field_is_refused_naming_it(field: str) -> None:
    record = {k: v for k, v in EDGE.items() if k != field}
    with pytest.raises(ValueError, match=f"missing required field '{field}'"):
        compile_encoder(EDGE_SCHEMA)(record)


@pytest.mark.parametrize("record", ["not a record", None, [("i", 0)], 5])
def test_a_record_that_is_not_a_mapping_is_refused(record: Any) -> None:
    with pytest.raises(TypeError, match="a record must be a mapping"):
        compile_encoder(EDGE_SCHEMA)(record)


def test_a_refusal_leaves_the_encoder_as_it_was() -> None:
    encode = compile_encoder(EDGE_SCHEMA)
    good = {**EDGE, "longs": [1, 2, 3], "s": "ok"}
    expected = encode(good)
    with pytest.raises(TypeError):
        encode({**good, "inner": {"x": None, "leaves": [{"v": "last", "at": None}]}})
    assert encode(good) == expected


def with_field(field_type: Any) -> dict[str, Any]:
    inner = {"type": "record", "name": "Deep", "fields": [{"name": "x", "type": field_type}]}
    return {"type": "record", "name": "R", "fields": [{"name": "deep", "type": inner}]}


@pytest.mark.parametrize(
    ("field_type", "construct"),
    [
        ({"type": "enum", "name": "E", "symbols": ["A", "B"]}, "enum"),
        ({"type": "fixed", "name": "F", "size": 4}, "fixed"),
        ({"type": "map", "values": "long"}, "map"),
        ({"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}, "decimal"),
        ({"type": "int", "logicalType": "date"}, "date"),
        ({"type": "long", "logicalType": "timestamp-micros"}, "timestamp-micros"),
        ({"type": "string", "logicalType": "uuid"}, "uuid"),
        (["null", "string", "long"], "union"),
        (["string", "long"], "union"),
        (["null", ["null", "long"]], "union"),
        ("null", "null"),
        ("test.Other", "test.Other"),
        ({"type": "array", "items": {"type": "map", "values": "int"}}, "map"),
    ],
)
def test_unsupported_constructs_are_refused_when_compiling(field_type: Any, construct: str) -> None:
    with pytest.raises(ValueError, match=f"unsupported .*{construct}"):
        compile_encoder(with_field(field_type))


@pytest.mark.parametrize("schema", [{"type": "array", "items": "long"}, {"type": "string"}])
def test_only_a_record_compiles(schema: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="the top level must be a record"):
        compile_encoder(schema)


HEADER = b"\x00\x01\x02\x03\x04"  # magic byte 0, then schema id 0x01020304 big-endian


@pytest.mark.parametrize("topic", TOPICS)
def test_wire_encoder_frames_the_compiled_body(topic: str) -> None:
    schema = schema_for_topic(topic).schema()
    encoder = WireEncoder(topic, schema_for_topic(topic).canonical(), 0x01020304)
    for event in itertools.islice(SAMPLES[topic], 500):
        assert encoder.encode(event) == HEADER + fastavro_body(schema, event)
    with pytest.raises(UserError, match="does not fit the registered schema"):
        encoder.encode({**SAMPLES[topic][0], "seq": True})  # fastavro would write 1


ENUM_SCHEMA = {
    "type": "record",
    "name": "WithEnum",
    "fields": [
        {"name": "user_id", "type": "string"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
    ],
}


def test_wire_encoder_falls_back_to_fastavro_for_an_unsupported_schema() -> None:
    encoder = WireEncoder("t", ENUM_SCHEMA, 0x01020304)
    for event in [{"user_id": "u1", "kind": "A"}, {"user_id": "ü", "kind": "B"}]:
        value = encoder.encode(event)
        assert value == HEADER + fastavro_body(ENUM_SCHEMA, event)
        assert decoded(ENUM_SCHEMA, value[5:]) == event
    refused: list[Any] = [{"user_id": "u1", "kind": "C"}, {"user_id": 5, "kind": "A"}, "text"]
    for event in refused:
        with pytest.raises(UserError, match="does not fit the registered schema of t"):
            encoder.encode(event)
