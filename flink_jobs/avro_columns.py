"""Flink table columns derived from an Avro schema, so the two cannot drift apart.

The avro-confluent format derives its reader schema from the table's columns; deriving
the columns from the registered `.avsc` keeps one source of truth.
"""

from __future__ import annotations

from typing import Any

from pyflink.table import DataTypes, Schema
from pyflink.table.types import DataType

PRIMITIVES = {
    "string": DataTypes.STRING,
    "long": DataTypes.BIGINT,
    "int": DataTypes.INT,
    "double": DataTypes.DOUBLE,
    "float": DataTypes.FLOAT,
    "boolean": DataTypes.BOOLEAN,
    "bytes": DataTypes.BYTES,
}


def flink_type(avro_type: Any) -> DataType:
    """The Flink type for an Avro field type; ["null", T] becomes nullable T."""
    if isinstance(avro_type, list):
        branches = [t for t in avro_type if t != "null"]
        if len(branches) != 1:
            raise ValueError(f"only [null, T] unions map to a column, not {avro_type}")
        return flink_type(branches[0]).nullable()
    if isinstance(avro_type, dict):
        if avro_type["type"] == "array":
            return DataTypes.ARRAY(flink_type(avro_type["items"])).not_null()
        if avro_type.get("logicalType") == "timestamp-millis":
            # Flink's Avro format maps TIMESTAMP(3) to timestamp-millis (legacy mapping, the
            # default); the job runs in UTC, so the values are UTC instants.
            return DataTypes.TIMESTAMP(3).not_null()
        return flink_type(avro_type["type"])
    if avro_type not in PRIMITIVES:
        raise ValueError(f"Avro type {avro_type!r} has no column mapping here")
    return PRIMITIVES[avro_type]().not_null()


def columns(avro_schema: dict[str, Any]) -> list[tuple[str, DataType]]:
    return [(f["name"], flink_type(f["type"])) for f in avro_schema["fields"]]


def table_schema(
    avro_schema: dict[str, Any], rowtime: str | None = None, max_delay_s: int = 0
) -> Schema:
    """Columns of the schema; with `rowtime`, an event-time watermark `max_delay_s` behind it."""
    builder = Schema.new_builder()
    for name, data_type in columns(avro_schema):
        builder.column(name, data_type)
    if rowtime is not None:
        builder.watermark(rowtime, f"`{rowtime}` - INTERVAL '{max_delay_s}' SECOND")
    return builder.build()
