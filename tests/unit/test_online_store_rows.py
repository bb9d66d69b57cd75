from datetime import UTC, datetime

import pytest

from flink_jobs.online_store import FeatureGroupRef
from flink_jobs.writer import to_row


def test_feature_topic_names_map_to_groups_and_keys() -> None:
    ref = FeatureGroupRef.from_topic("features.user_activity.v3")
    assert (ref.group, ref.version) == ("user_activity", 3)
    assert ref.topic == "features.user_activity.v3"
    assert ref.key("u1") == "feat:user_activity:v3:u1"
    with pytest.raises(ValueError, match="not a feature topic"):
        FeatureGroupRef.from_topic("fan.interactions")


def test_a_feature_record_becomes_a_row_valid_at_its_window_end() -> None:
    value = {
        "user_id": "u1",
        "window_start": datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        "window_end": datetime(2026, 1, 1, 12, 1, tzinfo=UTC),
        "user_interactions_count_1m": 3,
    }
    row = to_row("features.user_activity.v1", b"u1", value)
    assert row.entity_id == "u1"
    assert row.event_time_ms == 1767268860000
    assert row.window_start_ms == 1767268800000
    assert row.features == {"user_id": "u1", "user_interactions_count_1m": 3}


def test_a_record_without_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="without a key"):
        to_row("features.user_activity.v1", None, {})
