"""Apache Kafka: one KRaft node (broker + controller) on loopback, from the pinned jars."""

from __future__ import annotations

import base64
import subprocess
import time
import uuid

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from flink_jobs.errors import UserError
from flink_jobs.sinks import BROKER_TRANSACTION_MAX_TIMEOUT_MS
from flink_jobs.stack.jars import kafka_classpath
from flink_jobs.stack.service import Launch, Service
from flink_jobs.topics import ensure_topics

HEALTH_TOPIC = "_sportsfeat.health"
LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.raft=WARN
"""


class Kafka(Service):
    name = "kafka"

    def process_names(self) -> list[str]:
        return ["kafka"]

    def ports(self) -> list[int]:
        return [self.settings.kafka_port, self.settings.kafka_controller_port]

    def listens(self) -> str:
        s = self.settings
        return f"bootstrap {s.kafka_bootstrap} (controller :{s.kafka_controller_port})"

    def _server_properties(self) -> str:
        s = self.settings
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.bootstrap.servers={s.host}:{s.kafka_controller_port}",
                f"listeners=PLAINTEXT://{s.host}:{s.kafka_port},CONTROLLER://{s.host}:{s.kafka_controller_port}",
                f"advertised.listeners=PLAINTEXT://{s.host}:{s.kafka_port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                f"log.dirs={self.home / 'data'}",
                "num.partitions=3",
                # Topics are created on purpose (sportsfeat topics / the CLI), never by a typo.
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                # Flink's exactly-once sink keeps transactions open across checkpoints and restarts.
                f"transaction.max.timeout.ms={BROKER_TRANSACTION_MAX_TIMEOUT_MS}",
                "",
            ]
        )

    def launches(self) -> list[Launch]:
        cache = self.settings.jar_cache
        self.home.mkdir(parents=True, exist_ok=True)
        props = self.home / "server.properties"
        props.write_text(self._server_properties())
        log4j = self.home / "log4j.properties"
        log4j.write_text(LOG4J)
        java = ["java", "-cp", kafka_classpath(cache), f"-Dlog4j.configuration=file:{log4j}"]
        if not (self.home / "data" / "meta.properties").exists():
            cluster_id = _random_cluster_id()
            result = subprocess.run(
                [*java, "kafka.tools.StorageTool", "format", "--standalone",
                 "-t", cluster_id, "-c", str(props)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if result.returncode != 0:
                raise UserError(f"kafka: formatting storage failed: {result.stdout[-300:]}")
        heap = ["-Xms256m", "-Xmx1g"]
        return [
            Launch("kafka", [*java[:1], *heap, *java[1:], "kafka.Kafka", str(props)], self.home)
        ]

    def probe(self) -> str | None:
        """A real produce and consume round trip through the broker."""
        conf = {
            "bootstrap.servers": self.settings.kafka_bootstrap,
            "socket.timeout.ms": 3000,
            "log_level": 0,  # a broker still starting is expected here, not worth a log line
        }
        try:
            ensure_topics(
                self.settings.kafka_bootstrap, [HEALTH_TOPIC], 1, {"retention.ms": "600000"}
            )
            consumer = Consumer(
                {**conf, "group.id": "sportsfeat-health", "enable.auto.commit": False}
            )
            try:
                partition = TopicPartition(HEALTH_TOPIC, 0)
                _, end = consumer.get_watermark_offsets(partition, timeout=3)
                marker = uuid.uuid4().hex.encode()
                producer = Producer({**conf, "message.timeout.ms": 5000})
                producer.produce(HEALTH_TOPIC, marker, partition=0)
                if producer.flush(5) != 0:
                    return "produce did not complete"
                consumer.assign([TopicPartition(HEALTH_TOPIC, 0, end)])
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    msg = consumer.poll(0.5)
                    if msg is not None and not msg.error() and msg.value() == marker:
                        return None
            finally:
                consumer.close()
            return "produced a record but could not consume it back"
        except KafkaException as exc:
            return str(exc)


def _random_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (22 chars)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
