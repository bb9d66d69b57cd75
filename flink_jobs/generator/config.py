"""What to generate: the world's size, the rate, where to stop, and which faults to inject."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

INTERACTIONS = "fan.interactions"
GAME_EVENTS = "live.game-events"
SIGNALS = "fan.signals"
TOPICS = (INTERACTIONS, GAME_EVENTS, SIGNALS)


class Fault(StrEnum):
    """How a delivery deviates from the ground truth; None on a clean delivery."""

    OUT_OF_ORDER = "out_of_order"  # delayed, but within max_disorder_ms
    LATE = "late"  # delayed beyond late_bound_ms
    DUPLICATE = "duplicate"  # the same event (event_id, seq) delivered again
    # Byte-level: the Confluent framing or the Avro body is broken (Kafka output only).
    WRONG_MAGIC_BYTE = "wrong_magic_byte"
    UNKNOWN_SCHEMA_ID = "unknown_schema_id"
    TRUNCATED_PAYLOAD = "truncated_payload"
    # Value-level: schema-valid bytes, but a value the schema docs forbid.
    NEGATIVE_WATCH_TIME = "negative_watch_time"
    EMPTY_USER_ID = "empty_user_id"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    FUTURE_EVENT_TIME = "future_event_time"


Event = dict[str, Any]
# topic, key, event, fault: a plain tuple, as one is made per event on the hot path.
Delivery = tuple[str, str, Event, Fault | None]

BYTE_FAULTS = frozenset({Fault.WRONG_MAGIC_BYTE, Fault.UNKNOWN_SCHEMA_ID, Fault.TRUNCATED_PAYLOAD})
VALUE_FAULTS = frozenset(
    {
        Fault.NEGATIVE_WATCH_TIME,
        Fault.EMPTY_USER_ID,
        Fault.UNKNOWN_EVENT_TYPE,
        Fault.FUTURE_EVENT_TIME,
    }
)
MALFORMED_KINDS = tuple(f for f in Fault if f in BYTE_FAULTS | VALUE_FAULTS)


@dataclass(frozen=True)
class GeneratorConfig:
    """Every knob of the generator; the same config and seed give the same stream.

    Rates and times are on the simulated clock (milliseconds since the epoch), not the wall
    clock. Faults are all off by default; each share is a probability per generated event.
    """

    seed: int = 7
    users: int = 1000
    contents: int = 200
    games: int = 8
    game_interval_ms: int = 600_000  # game i starts at start_ms + i * game_interval_ms
    start_ms: int = 0
    events_per_second: float = 50.0  # base rate of fan activity (interactions + signals)
    signal_share: float = 0.05  # of the fan activity
    burst_share: float = 0.3  # extra viewing after the score changes of a period / base rate
    diurnal: bool = False  # modulate the base rate by the hour of day (UTC)
    count: int | None = None  # stop after this many generated events (all topics) ...
    duration_ms: int | None = None  # ... or this much simulated time; None: endless

    out_of_order_share: float = 0.0
    mean_disorder_ms: int = 1000  # exponential delay, capped at max_disorder_ms
    max_disorder_ms: int = 3000
    late_share: float = 0.0
    late_bound_ms: int = 5000  # late events arrive after the stream passed them by more
    late_max_extra_ms: int = 60_000
    duplicate_share: float = 0.0
    duplicate_max_delay_ms: int = 2000
    malformed_share: float = 0.0  # an extra, broken copy of a fan.interactions event
    malformed_kinds: tuple[Fault, ...] = MALFORMED_KINDS

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_share") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be between 0 and 1, not {value}")
            if f.name.endswith("_ms") and f.name != "start_ms" and value is not None and value < 1:
                raise ValueError(f"{f.name} must be at least 1 ms, not {value}")
        if min(self.users, self.contents) < 1 or self.games < 0:
            raise ValueError("users and contents must be at least 1, games at least 0")
        if self.events_per_second <= 0:
            raise ValueError(f"events_per_second must be positive, not {self.events_per_second}")
        if self.count is not None and self.count < 1:
            raise ValueError(f"count must be at least 1, not {self.count}")
        if self.out_of_order_share + self.late_share > 1.0:
            raise ValueError("out_of_order_share + late_share must not exceed 1")
        if self.mean_disorder_ms > self.max_disorder_ms:
            raise ValueError("mean_disorder_ms must not exceed max_disorder_ms")
        if self.malformed_share > 0 and not self.malformed_kinds:
            raise ValueError("malformed_share needs at least one of malformed_kinds")
        if not set(self.malformed_kinds) <= set(MALFORMED_KINDS):
            raise ValueError(f"malformed_kinds must be among {', '.join(MALFORMED_KINDS)}")

    @property
    def faulty(self) -> bool:
        """Whether any delivery fault is switched on."""
        shares = (self.out_of_order_share, self.late_share, self.duplicate_share)
        return any(shares) or bool(self.malformed_share)
