"""Decoding Confluent-framed Avro records: magic byte 0, 4-byte schema id, Avro body.

Writer schemas are fetched from the registry by id once and kept parsed, so decoding costs
one fastavro read per record. Every way a record can be undecodable raises DecodeError
with a reason a dead-letter record or a log line can carry.
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any

from fastavro import parse_schema, schemaless_reader

from flink_jobs.registry import RegistryClient

MAGIC_BYTE = 0
HEADER = struct.Struct(">bI")


class DecodeError(ValueError):
    """The record cannot be decoded; `reason` is a short stable label (for metrics)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class ConfluentAvroDecoder:
    def __init__(self, registry: RegistryClient) -> None:
        self._registry = registry
        self._schemas: dict[int, Any] = {}

    def _schema(self, schema_id: int) -> Any:
        if schema_id not in self._schemas:
            text = self._registry.schema_by_id(schema_id)
            if text is None:
                raise DecodeError("unknown_schema_id", f"the registry has no schema {schema_id}")
            self._schemas[schema_id] = parse_schema(json.loads(text))
        return self._schemas[schema_id]

    def decode(self, raw: bytes | None) -> dict[str, Any]:
        if raw is None or len(raw) < HEADER.size:
            raise DecodeError("truncated", f"{len(raw or b'')} bytes, shorter than the header")
        magic, schema_id = HEADER.unpack_from(raw)
        if magic != MAGIC_BYTE:
            raise DecodeError("wrong_magic_byte", f"first byte {magic}, expected {MAGIC_BYTE}")
        schema = self._schema(schema_id)
        body = io.BytesIO(raw)
        body.seek(HEADER.size)
        try:
            value = schemaless_reader(body, schema, None)
        except (EOFError, StopIteration, IndexError, UnicodeDecodeError, ValueError) as exc:
            raise DecodeError("corrupt_payload", f"schema {schema_id}: {exc!r}") from exc
        if body.tell() != len(raw):
            raise DecodeError("corrupt_payload", f"{len(raw) - body.tell()} bytes left over")
        if not isinstance(value, dict):
            raise DecodeError("corrupt_payload", "the value is not a record")
        return value
