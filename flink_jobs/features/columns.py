"""Column types: of a source (from its Avro schema) and of each feature's output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flink_jobs.features.model import Agg, Feature
from flink_jobs.registry import schema_for_topic

AVRO_SQL = {
    "string": "STRING",
    "long": "BIGINT",
    "int": "INT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "bytes": "BYTES",
}
NUMERIC = ("BIGINT", "INT", "DOUBLE", "FLOAT")


@dataclass(frozen=True)
class Column:
    name: str
    sql: str  # e.g. BIGINT, ARRAY<STRING>, TIMESTAMP(3)
    nullable: bool

    @property
    def ddl(self) -> str:
        return f"`{self.name}` {self.sql}" + ("" if self.nullable else " NOT NULL")


def _sql_type(avro: Any) -> tuple[str, bool]:
    if isinstance(avro, list):
        (branch,) = (t for t in avro if t != "null")
        return _sql_type(branch)[0], True
    if isinstance(avro, dict):
        if avro["type"] == "array":
            return f"ARRAY<{_sql_type(avro['items'])[0]}>", False
        if avro["type"] == "record":
            return f"ROW<{', '.join(c.ddl for c in avro_columns(avro))}>", False
        if avro.get("logicalType") == "timestamp-millis":
            return "TIMESTAMP(3)", False
        return _sql_type(avro["type"])
    return AVRO_SQL[avro], False


def avro_columns(avro_schema: dict[str, Any]) -> tuple[Column, ...]:
    return tuple(Column(f["name"], *_sql_type(f["type"])) for f in avro_schema["fields"])


def source_columns(topic: str) -> dict[str, Column]:
    """The columns of a source topic, from its registered (reviewed) schema file."""
    return {c.name: c for c in avro_columns(schema_for_topic(topic).schema())}


DOUBLE_AGGS = (Agg.AVG, Agg.VARIANCE, Agg.STDDEV, Agg.PERCENTILE, Agg.DECAY_SUM, Agg.RATIO)
LONG_AGGS = (Agg.COUNT, Agg.COUNT_DISTINCT, Agg.APPROX_DISTINCT)
LIST_AGGS = (Agg.LAST_N, Agg.TOP_K)


def feature_type(feature: Feature, source: dict[str, Column]) -> str:
    """The SQL type of a feature's value (always nullable, except counts)."""
    if feature.agg in LONG_AGGS:
        return "BIGINT"
    if feature.agg in DOUBLE_AGGS:
        return "DOUBLE"
    if feature.agg in LIST_AGGS:
        return "ARRAY<STRING>"
    if feature.column is None:
        raise ValueError(f"{feature.name}: {feature.agg.value} needs a column")
    return source[feature.column].sql


SQL_AVRO = {sql: avro for avro, sql in AVRO_SQL.items()}


def avro_field(name: str, sql: str, doc: str, nullable: bool) -> dict[str, Any]:
    avro: Any
    if sql.startswith("ARRAY<"):  # Flink's ARRAY<T> has nullable elements: so must Avro's
        avro = {"type": "array", "items": ["null", SQL_AVRO[sql[6:-1]]]}
    elif sql == "TIMESTAMP(3)":
        avro = {"type": "long", "logicalType": "timestamp-millis"}
    else:
        avro = SQL_AVRO[sql]
    if nullable:
        return {"name": name, "type": ["null", avro], "default": None, "doc": doc}
    return {"name": name, "type": avro, "doc": doc}
