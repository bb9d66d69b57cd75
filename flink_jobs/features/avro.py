"""The Avro schema of each feature group's topic, generated from its definition.

The generated schema is committed as schemas/<topic>-value.avsc (reviewed like code, and
registered like every other schema); a test keeps the file equal to the definition.
"""

from __future__ import annotations

from typing import Any

from flink_jobs.features.columns import Column, avro_field, feature_type, source_columns
from flink_jobs.features.model import Agg, Feature, FeatureGroup, Lifetime

NAMESPACE = "io.sportsfeat.features"


def _nullable(feature: Feature, source: dict[str, Column]) -> bool:
    """Counts are never null; a sum/min/max over a required column without a filter sees
    at least one row per window; everything else can be null (no matching row)."""
    if feature.agg in (Agg.COUNT, Agg.COUNT_DISTINCT):
        return False
    if feature.agg in (Agg.SUM, Agg.MIN, Agg.MAX) and not feature.where and feature.column:
        return source[feature.column].nullable
    return True


def window_docs(group: FeatureGroup) -> tuple[str, str]:
    if isinstance(group.window, Lifetime):
        return "Event time of the entity's first event, UTC.", (
            "Event time of the entity's latest event, UTC: the event time the values are valid for."
        )
    return "Start of the window, inclusive, UTC.", (
        "End of the window, exclusive, UTC: the event time the values are valid for."
    )


def feature_schema(group: FeatureGroup) -> dict[str, Any]:
    source = source_columns(group.source.topic)
    keys = " and ".join(group.keys)
    start_doc, end_doc = window_docs(group)
    fields = [
        avro_field(
            group.entity,
            "STRING",
            f"The entity: {keys}" + (" joined with ':'." if len(group.keys) > 1 else "."),
            nullable=False,
        ),
        avro_field("window_start", "TIMESTAMP(3)", start_doc, nullable=False),
        avro_field("window_end", "TIMESTAMP(3)", end_doc, nullable=False),
    ]
    fields += [
        avro_field(f.name, feature_type(f, source), f.doc, _nullable(f, source))
        for f in group.features
    ]
    name = "".join(part.capitalize() for part in group.name.split("_")) + f"V{group.version}"
    return {
        "type": "record",
        "name": name,
        "namespace": NAMESPACE,
        "doc": (
            f"Feature group {group.name}, version {group.version}. {group.doc} "
            f"Topic {group.topic}, written by the feature job; record key: {group.entity} "
            "as a UTF-8 string."
        ),
        "fields": fields,
    }
