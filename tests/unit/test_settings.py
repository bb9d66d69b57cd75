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


def test_services_elsewhere_replace_the_local_addresses() -> None:
    settings = load_settings(
        {
            "SPORTSFEAT_KAFKA_SERVERS": "kafka-0:9093,kafka-1:9093",
            "SPORTSFEAT_REGISTRY_SERVER": "http://registry:8080/apis/ccompat/v7/",
            "SPORTSFEAT_REDIS_SERVER": "redis-master:6380",
        }
    )
    assert settings.kafka_bootstrap == "kafka-0:9093,kafka-1:9093"
    assert settings.registry_url == "http://registry:8080/apis/ccompat/v7"
    assert settings.redis_endpoint == ("redis-master", 6380)
    assert settings.redis_url == "redis://redis-master:6380/0"
    with pytest.raises(UserError, match="redis server 'redis://r:1' must be host:port"):
        Settings(redis_server="redis://r:1")


def test_plaintext_kafka_needs_no_client_security() -> None:
    assert Settings().kafka_security() == {}
    assert Settings().kafka_java_security() == {}


def test_sasl_ssl_is_configured_for_librdkafka_and_for_flinks_shaded_java_client() -> None:
    settings = Settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="features",
        kafka_sasl_password='p"w\\d',  # noqa: S106 (a test value)
        kafka_ssl_ca_file="/etc/ca.crt",
    )
    assert settings.kafka_security() == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "features",
        "sasl.password": 'p"w\\d',
        "ssl.ca.location": "/etc/ca.crt",
    }
    assert settings.kafka_java_security() == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": "org.apache.flink.kafka.shaded.org.apache.kafka.common.security."
        'scram.ScramLoginModule required username="features" password="p\\"w\\\\d";',
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": "/etc/ca.crt",
    }


def test_incomplete_or_unknown_security_is_refused() -> None:
    without_password = Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="u")
    for client_config in (without_password.kafka_security, without_password.kafka_java_security):
        with pytest.raises(UserError, match="SASL_SSL needs SPORTSFEAT_KAFKA_SASL_USERNAME"):
            client_config()
    with pytest.raises(UserError, match="'SSL': use PLAINTEXT or SASL_SSL"):
        Settings(kafka_security_protocol="SSL")
    with pytest.raises(UserError, match="'PLAIN': use SCRAM-SHA-256 or SCRAM-SHA-512"):
        Settings(kafka_sasl_mechanism="PLAIN")
    with pytest.raises(UserError, match="must be user:password"):
        Settings(registry_user_info="user-only")


def test_every_credential_is_known_to_the_log_masking() -> None:
    settings = Settings(
        api_keys="k1, k2",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="u",
        kafka_sasl_password="kafka-pw",  # noqa: S106
        registry_user_info="reg:reg-pw",
        redis_password="redis-pw",  # noqa: S106
    )
    assert sorted(settings.secrets()) == ["k1", "k2", "kafka-pw", "redis-pw", "reg-pw"]
