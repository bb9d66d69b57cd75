"""Helpers shared by the Avro tests."""

from __future__ import annotations

from typing import Any


def without_logical_types(schema: Any) -> Any:
    """The schema reading timestamps back as the plain longs they were written from."""
    if isinstance(schema, dict):
        return {k: without_logical_types(v) for k, v in schema.items() if k != "logicalType"}
    if isinstance(schema, list):
        return [without_logical_types(item) for item in schema]
    return schema
