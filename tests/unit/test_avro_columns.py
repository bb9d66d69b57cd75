import pytest
from pyflink.table import DataTypes

from flink_jobs.avro_columns import columns, flink_type
from flink_jobs.registry import schema_files


def test_every_schema_maps_to_columns_field_by_field() -> None:
    for schema_file in schema_files():
        schema = schema_file.schema()
        assert [name for name, _ in columns(schema)] == [f["name"] for f in schema["fields"]]


def test_types() -> None:
    assert flink_type("string") == DataTypes.STRING().not_null()
    assert flink_type(["null", "long"]) == DataTypes.BIGINT().nullable()
    millis = {"type": "long", "logicalType": "timestamp-millis"}
    assert flink_type(millis) == DataTypes.TIMESTAMP(3).not_null()


def test_unsupported_types_are_named() -> None:
    with pytest.raises(ValueError, match="only \\[null, T\\] unions"):
        flink_type(["null", "string", "long"])
    with pytest.raises(ValueError, match="'fixed'"):
        flink_type("fixed")
