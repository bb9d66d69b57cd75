from dataclasses import replace

import pytest

from flink_jobs.job import job_settings, lag_aware_source
from flink_jobs.job_config import JobConfig
from flink_jobs.pipeline import subjects
from flink_jobs.sinks import check_transaction_timeout
from flink_jobs.tiles.compile import Kind, split


def test_argv_parses_back_into_the_same_config() -> None:
    config = JobConfig(
        bootstrap="127.0.0.1:19092",
        registry_url="http://127.0.0.1:18080/apis/ccompat/v7",
        groups="user_activity,user_session",
        namespace="it_x",
        source_namespace="data",
        watermark_emit="on-event",
        parallelism=2,
        flink_options="pipeline.object-reuse=false",
        idleness="flink",
    )
    assert JobConfig.parse(config.argv()) == config


def test_v2_jobs_read_with_the_lag_aware_connector_unless_told_otherwise() -> None:
    v2 = JobConfig(bootstrap="b", registry_url="r", groups="user_activity.v2")
    assert lag_aware_source(v2)
    assert not lag_aware_source(replace(v2, idleness="flink"))
    assert not lag_aware_source(replace(v2, groups="user_activity"))  # v1: its released plans
    assert not lag_aware_source(replace(v2, groups="user_activity,user_activity.v2"))


def test_flink_options_override_the_jobs_own() -> None:
    base = JobConfig(bootstrap="b", registry_url="r")
    assert job_settings(base)["pipeline.object-reuse"] == "true"
    tuned = JobConfig(
        bootstrap="b", registry_url="r", flink_options=" a.b = 1 ,pipeline.object-reuse=false"
    )
    settings = job_settings(tuned)
    assert (settings["a.b"], settings["pipeline.object-reuse"]) == ("1", "false")
    with pytest.raises(ValueError, match=r"flink option 'a\.b' is not KEY=VALUE"):
        JobConfig(bootstrap="b", registry_url="r", flink_options="a.b").flink_option_map()


def test_topics_of_a_namespace_and_unknown_groups() -> None:
    config = JobConfig(bootstrap="b", registry_url="r", groups="user_session", namespace="it_x")
    [group] = config.feature_groups()
    assert config.feature_topic(group) == "features.user_session_it_x.v1"
    assert config.late_topic(group) == "late.user_session_it_x.v1"
    assert config.source_topic(group.source) == "fan.interactions.it_x"
    assert config.dlq_topic(group.source) == "dlq.fan.interactions.it_x"
    assert len(JobConfig(bootstrap="b", registry_url="r").feature_groups()) >= 4
    shared = JobConfig(bootstrap="b", registry_url="r", namespace="run2", source_namespace="data")
    assert shared.source_topic(group.source) == "fan.interactions.data"
    assert shared.feature_topic(group) == "features.user_session_run2.v1"
    with pytest.raises(ValueError, match="unknown feature groups \\['nope'\\]"):
        JobConfig(bootstrap="b", registry_url="r", groups="nope").feature_groups()


def test_transaction_timeout_must_outlast_checkpoint_and_restart() -> None:
    check_transaction_timeout(JobConfig(bootstrap="b", registry_url="r"))
    with pytest.raises(ValueError, match="must exceed checkpoint interval"):
        check_transaction_timeout(
            JobConfig(bootstrap="b", registry_url="r", checkpoint_interval_s=600)
        )


def test_tiled_versions_are_chosen_by_name_and_version_only() -> None:
    config = JobConfig(bootstrap="b", registry_url="r", groups="user_activity.v2,user_session")
    assert [(g.name, g.version) for g in config.feature_groups()] == [
        ("user_activity", 2),
        ("user_session", 1),
    ]
    by_name = JobConfig(bootstrap="b", registry_url="r", groups="user_activity")
    assert [g.version for g in by_name.feature_groups()] == [1]
    with pytest.raises(ValueError, match=r"user_session\.v2"):
        JobConfig(bootstrap="b", registry_url="r", groups="user_session.v2").feature_groups()


def test_a_v2_job_writes_tile_streams_not_feature_topics() -> None:
    config = JobConfig(
        bootstrap="b",
        registry_url="r",
        groups="user_activity.v2,user_today.v2,content_trending.v2,user_session",
        namespace="t",
    )
    found = subjects(config)
    assert config.tile_topic(kinds_of(config)[0]) == "tiles.user_t.v2"
    assert {"tiles.user_t.v2-value", "tiles.content_t.v2-value"} <= found.keys()
    assert "late.user_today_t.v2-value" in found
    assert "features.user_session_t.v1-value" in found
    assert not any(s.startswith("features.") and ".v2-" in s for s in found)
    assert '"name":"TileUpdate"' in found["tiles.user_t.v2-value"][0]


def kinds_of(config: JobConfig) -> tuple[Kind, ...]:
    return split(config.feature_groups())[1]
