from pathlib import Path

import pytest

from flink_jobs.errors import UserError
from flink_jobs.settings import Settings, load_settings


def test_defaults_work_out_of_the_box() -> None:
    settings = load_settings({})
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.registry_url == "http://127.0.0.1:8080/apis/ccompat/v7"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


def test_environment_overrides_ports_and_state_dir(tmp_path: Path) -> None:
    settings = load_settings(
        {"SPORTSFEAT_KAFKA_PORT": "19092", "SPORTSFEAT_STATE_DIR": str(tmp_path / "s")}
    )
    assert settings.kafka_bootstrap == "127.0.0.1:19092"
    assert settings.state_dir == tmp_path / "s"


def test_a_port_that_is_not_a_number_is_named() -> None:
    with pytest.raises(UserError, match="SPORTSFEAT_REDIS_PORT='abc' is not a whole number"):
        load_settings({"SPORTSFEAT_REDIS_PORT": "abc"})


def test_out_of_range_and_clashing_ports_are_refused() -> None:
    with pytest.raises(UserError, match="kafka port 70000 is out of range"):
        Settings(kafka_port=70000)
    with pytest.raises(UserError, match="both 8081"):
        Settings(registry_port=8081)


def test_overrides_ignore_unset_options() -> None:
    settings = Settings().with_overrides(kafka_port=None, redis_port=16379)
    assert (settings.kafka_port, settings.redis_port) == (9092, 16379)


def test_log_format_comes_from_the_environment_and_is_checked() -> None:
    assert load_settings({"SPORTSFEAT_LOG_FORMAT": "json"}).log_format == "json"
    with pytest.raises(UserError, match="log format 'xml' is unknown: use one of auto, json"):
        load_settings({"SPORTSFEAT_LOG_FORMAT": "xml"})
