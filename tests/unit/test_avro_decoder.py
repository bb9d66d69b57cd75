import io
import json
import struct
from typing import Any, cast

import pytest
from fastavro import parse_schema, schemaless_writer

from flink_jobs.avro_decoder import ConfluentAvroDecoder, DecodeError
from flink_jobs.registry import RegistryClient

SCHEMA = {
    "type": "record",
    "name": "R",
    "fields": [{"name": "user_id", "type": "string"}, {"name": "n", "type": "long"}],
}


class FakeRegistry:
    def __init__(self) -> None:
        self.lookups = 0

    def schema_by_id(self, schema_id: int) -> str | None:
        self.lookups += 1
        return json.dumps(SCHEMA) if schema_id == 7 else None


def framed(value: dict[str, Any], schema_id: int = 7, magic: int = 0) -> bytes:
    out = io.BytesIO()
    out.write(struct.pack(">bI", magic, schema_id))
    schemaless_writer(out, parse_schema(SCHEMA), value)
    return out.getvalue()


def decoder() -> tuple[ConfluentAvroDecoder, FakeRegistry]:
    registry = FakeRegistry()
    return ConfluentAvroDecoder(cast(RegistryClient, registry)), registry


def test_decodes_and_fetches_each_schema_once() -> None:
    dec, registry = decoder()
    for n in range(3):
        assert dec.decode(framed({"user_id": "u1", "n": n})) == {"user_id": "u1", "n": n}
    assert registry.lookups == 1


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "truncated"),
        (b"\x00\x00", "truncated"),
        (framed({"user_id": "u1", "n": 1}, magic=1), "wrong_magic_byte"),
        (framed({"user_id": "u1", "n": 1}, schema_id=99), "unknown_schema_id"),
        (framed({"user_id": "u1", "n": 1})[:-1], "corrupt_payload"),
        (framed({"user_id": "u1", "n": 1}) + b"\x00", "corrupt_payload"),
    ],
)
def test_every_undecodable_record_has_a_reason(raw: bytes | None, reason: str) -> None:
    dec, _ = decoder()
    with pytest.raises(DecodeError) as caught:
        dec.decode(raw)
    assert caught.value.reason == reason
