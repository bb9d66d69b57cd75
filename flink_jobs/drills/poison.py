"""Poison pills: every kind of bad record, each with the reason the job must give for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flink_jobs.generator.config import Fault
from flink_jobs.generator.faults import corrupt, malformed

VALUE_FAULTS = {
    Fault.NEGATIVE_WATCH_TIME: "negative:watch_time_ms",
    Fault.EMPTY_USER_ID: "missing:user_id",
    Fault.UNKNOWN_EVENT_TYPE: "invalid:event_type",
    Fault.FUTURE_EVENT_TIME: "future_event_time",
}


def poison_pills(
    encode: Callable[[dict[str, Any]], bytes], good: dict[str, Any]
) -> list[tuple[bytes, str]]:
    """(record value, dead-letter reason) for every kind of bad record, made from `good`."""
    encoded = encode(good)
    pills = [
        (corrupt(encoded, Fault.WRONG_MAGIC_BYTE), "wrong_magic_byte"),
        (corrupt(encoded, Fault.UNKNOWN_SCHEMA_ID), "unknown_schema_id"),
        (corrupt(encoded, Fault.TRUNCATED_PAYLOAD), "truncated"),
        (encoded[:5] + b"\xff" * 40, "corrupt_payload"),
        (encoded + b"\x00\x01", "corrupt_payload"),
    ]
    return pills + [(encode(malformed(good, kind)), why) for kind, why in VALUE_FAULTS.items()]
