"""The schema files themselves: valid, documented, governed, and in line with what shipped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema

from flink_jobs.errors import UserError
from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.registry import SchemaFile, schema_files
from flink_jobs.schema_governance import check_schema, compatibility_level, diff, release

TOPICS = {"fan.interactions", "live.game-events", "fan.signals"} | {g.topic for g in CATALOGUE}


def test_every_topic_has_a_schema_that_parses() -> None:
    assert {s.topic for s in schema_files()} == TOPICS
    for schema in schema_files():
        parse_schema(schema.schema())
    for side in ("late-event.avsc", "dead-letter.avsc"):  # one schema for every such topic
        parse_schema(json.loads((Path(schema_files()[0].path.parent) / side).read_text()))


@pytest.mark.parametrize("schema", schema_files(), ids=lambda s: s.subject)
def test_namespaced_documented_and_timed_in_millis(schema: SchemaFile) -> None:
    parsed = schema.schema()
    assert parsed["namespace"].startswith("io.sportsfeat.")
    assert parsed["doc"]
    for field in parsed["fields"]:
        assert field.get("doc"), f"{schema.subject}.{field['name']} has no doc"
        if field["name"].endswith("_time") or field["name"].startswith("window_"):
            assert field["type"] == {"type": "long", "logicalType": "timestamp-millis"}


@pytest.mark.parametrize("schema", schema_files(), ids=lambda s: s.subject)
def test_working_copy_is_compatible_with_every_released_version(schema: SchemaFile) -> None:
    result = check_schema(schema)
    assert result.released_versions, f"{schema.subject} has never been released"
    assert result.problems == []


def test_event_topics_protect_running_consumers() -> None:
    for subject in ("fan.interactions-value", "live.game-events-value", "fan.signals-value"):
        assert compatibility_level(subject) == "FULL_TRANSITIVE"
    assert compatibility_level("features.user_activity.v1-value") == "BACKWARD_TRANSITIVE"


def write(path: Path, schema: dict[str, Any]) -> SchemaFile:
    path.write_text(json.dumps(schema))
    return SchemaFile(path)


def record(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": "E", "namespace": "io.sportsfeat.t", "fields": list(fields)}


def test_release_diff_and_refusal_of_a_breaking_change(tmp_path: Path) -> None:
    released_dir = tmp_path / "released"
    v1 = record({"name": "a", "type": "string"})
    working = write(tmp_path / "fan.interactions-value.avsc", v1)
    assert diff(working, released_dir) == ["+ a (new subject)"]
    assert release(working, released_dir) == released_dir / "fan.interactions-value" / "v1.avsc"
    assert release(working, released_dir) is None  # unchanged: nothing to release

    v2 = record({"name": "a", "type": "string"}, {"name": "b", "type": "int", "default": 0})
    working = write(working.path, v2)
    assert diff(working, released_dir) == ['+ b: "int", default 0']
    assert release(working, released_dir) == released_dir / "fan.interactions-value" / "v2.avsc"

    v3 = record({"name": "a", "type": "long"}, {"name": "b", "type": "int", "default": 0})
    working = write(working.path, v3)
    assert diff(working, released_dir) == ['~ a: "string" -> "long"']
    problems = check_schema(working, released_dir).lines()
    assert problems and all("E.a: TYPE_MISMATCH" in line for line in problems)
    with pytest.raises(UserError, match="cannot release an incompatible schema"):
        release(working, released_dir)
