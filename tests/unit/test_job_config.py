import pytest

from flink_jobs.job_config import JobConfig
from flink_jobs.sinks import check_transaction_timeout


def test_argv_parses_back_into_the_same_config() -> None:
    config = JobConfig(
        bootstrap="127.0.0.1:19092",
        registry_url="http://127.0.0.1:18080/apis/ccompat/v7",
        source_topic="it.x",
        feature_topic="features.it_x.v1",
        parallelism=2,
    )
    assert JobConfig.parse(config.argv()) == config


def test_transaction_timeout_must_outlast_checkpoint_and_restart() -> None:
    check_transaction_timeout(JobConfig(bootstrap="b", registry_url="r"))
    with pytest.raises(ValueError, match="must exceed checkpoint interval"):
        check_transaction_timeout(
            JobConfig(bootstrap="b", registry_url="r", checkpoint_interval_s=600)
        )
