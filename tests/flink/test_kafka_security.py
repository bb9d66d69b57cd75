"""Every Kafka table of the job carries the configured client security (prod: SASL_SSL with
SCRAM and the brokers' CA), and none on the local stack."""

from __future__ import annotations

import pytest

from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.job_config import JobConfig
from flink_jobs.sinks import dead_letter_sink, feature_sink
from flink_jobs.sources import kafka_source

pytestmark = pytest.mark.flink

SECURITY = {
    "SPORTSFEAT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "SPORTSFEAT_KAFKA_SASL_USERNAME": "features",
    "SPORTSFEAT_KAFKA_SASL_PASSWORD": "pw",
    "SPORTSFEAT_KAFKA_SSL_CA_FILE": "/etc/sportsfeat/kafka-ca/ca.crt",
}


def kafka_options() -> list[dict[str, str]]:
    config = JobConfig(bootstrap="kafka:9093", registry_url="http://registry:8080")
    group = CATALOGUE[0]
    tables = [
        kafka_source(group.source, "topic", config.bootstrap, "group", False, config.registry_url),
        feature_sink(config, group),
        dead_letter_sink(config, group.source),
    ]
    return [table.get_options() for table in tables]


def test_kafka_tables_use_sasl_ssl_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECURITY.items():
        monkeypatch.setenv(name, value)
    for options in kafka_options():
        assert options["properties.security.protocol"] == "SASL_SSL"
        assert options["properties.sasl.mechanism"] == "SCRAM-SHA-512"
        assert options["properties.sasl.jaas.config"].startswith(
            "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram."
        )
        assert (
            options["properties.ssl.truststore.location"]
            == SECURITY["SPORTSFEAT_KAFKA_SSL_CA_FILE"]
        )


def test_kafka_tables_are_plaintext_on_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECURITY:
        monkeypatch.delenv(name, raising=False)
    for options in kafka_options():
        assert not [key for key in options if key.startswith(("properties.s", "properties.ssl"))]
