"""A consumer poll that returns what is ready, not what fills a batch.

librdkafka's `Consumer.consume(num_messages, timeout)` returns once it has `num_messages`
or the timeout ran out: on a stream slower than `num_messages` per timeout every record
waits up to the timeout (at 1,000 records/s, `consume(1000, 0.5)` returns every 0.5 s).
`ready` waits only for the first record, then takes what the consumer has fetched already."""

from __future__ import annotations

from confluent_kafka import Consumer, Message


def ready(consumer: Consumer, max_messages: int, timeout_s: float) -> list[Message]:
    """Up to `max_messages` records (errors included, as `consume` gives them): none after
    `timeout_s` without any, else the first and those already fetched behind it."""
    first = consumer.poll(timeout_s)
    if first is None:
        return []
    return [first, *consumer.consume(num_messages=max_messages - 1, timeout=0)]
