"""The catalogue of served feature groups, each derived from its declared definition.

A group's features are the fields of its generated feature-topic schema except the entity
and the window bounds; their types say how to turn the strings Redis stores back into
values (lists are stored as JSON).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flink_jobs.features.avro import feature_schema
from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.features.model import FeatureGroup as Definition
from flink_jobs.online_store import FeatureGroupRef

FeatureValue = int | float | str | list[str]
FeatureType = Callable[[str], FeatureValue]
AVRO_TYPES: dict[str, FeatureType] = {
    "int": int,
    "long": int,
    "double": float,
    "float": float,
    "string": str,
}
WINDOW_FIELDS = ("window_start", "window_end")


def _json_list(stored: str) -> list[str]:
    value: list[str] = json.loads(stored)
    return value


@dataclass(frozen=True)
class FeatureGroup:
    """A served feature-group version: its entity, features and how long a value stays fresh."""

    name: str
    version: int
    entity: str
    ttl: timedelta
    features: tuple[str, ...]
    doc: str
    types: Mapping[str, FeatureType]

    @property
    def ref(self) -> FeatureGroupRef:
        return FeatureGroupRef(self.name, self.version)

    def decode(self, stored: Mapping[str, str]) -> dict[str, FeatureValue | None]:
        """The group's features from a stored hash (None for a feature it lacks)."""
        return {
            name: self.types[name](stored[name]) if name in stored else None
            for name in self.features
        }


def _feature_type(field: dict[str, Any]) -> FeatureType:
    avro = field["type"]
    if isinstance(avro, list):  # ["null", T]: the writer stores no field for a null
        avro = next(t for t in avro if t != "null")
    if isinstance(avro, dict) and avro.get("type") == "array":
        return _json_list
    if isinstance(avro, str) and avro in AVRO_TYPES:
        return AVRO_TYPES[avro]
    raise ValueError(f"feature {field['name']}: unsupported Avro type {avro!r}")


def from_definition(definition: Definition) -> FeatureGroup:
    """The served view of a declared group: features and types from its feature schema."""
    schema = feature_schema(definition)
    fields = [f for f in schema["fields"] if f["name"] not in (definition.entity, *WINDOW_FIELDS)]
    return FeatureGroup(
        name=definition.name,
        version=definition.version,
        entity=definition.entity,
        ttl=definition.ttl,
        features=tuple(f["name"] for f in fields),
        doc=schema["doc"],
        types={f["name"]: _feature_type(f) for f in fields},
    )


FEATURE_GROUPS = tuple(from_definition(g) for g in CATALOGUE)
_BY_REF = {group.ref: group for group in FEATURE_GROUPS}


def feature_group(name: str, version: int) -> FeatureGroup | None:
    return _BY_REF.get(FeatureGroupRef(name, version))
