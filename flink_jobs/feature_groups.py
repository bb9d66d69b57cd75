"""The catalogue of served feature groups, each derived from its feature topic's Avro schema.

A group's features are the schema's fields except the entity and the window bounds; their
Avro types say how to turn the strings Redis stores back into values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flink_jobs.online_store import FeatureGroupRef
from flink_jobs.registry import schema_for_topic

FeatureValue = int | float | str
FeatureType = type[int] | type[float] | type[str]
AVRO_TYPES: dict[str, FeatureType] = {
    "int": int,
    "long": int,
    "float": float,
    "double": float,
    "string": str,
}
WINDOW_FIELDS = ("window_start", "window_end")


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
    if isinstance(avro, str) and avro in AVRO_TYPES:
        return AVRO_TYPES[avro]
    raise ValueError(f"feature {field['name']}: unsupported Avro type {avro!r}")


def from_schema(topic: str, entity: str, ttl: timedelta) -> FeatureGroup:
    """The group of a feature topic, its features and types read from the topic's schema."""
    ref = FeatureGroupRef.from_topic(topic)
    schema = schema_for_topic(topic).schema()
    fields = [f for f in schema["fields"] if f["name"] not in (entity, *WINDOW_FIELDS)]
    return FeatureGroup(
        name=ref.group,
        version=ref.version,
        entity=entity,
        ttl=ttl,
        features=tuple(f["name"] for f in fields),
        doc=schema.get("doc", ""),
        types={f["name"]: _feature_type(f) for f in fields},
    )


FEATURE_GROUPS = (from_schema("features.user_activity.v1", "user_id", timedelta(hours=24)),)
_BY_REF = {group.ref: group for group in FEATURE_GROUPS}


def feature_group(name: str, version: int) -> FeatureGroup | None:
    return _BY_REF.get(FeatureGroupRef(name, version))
