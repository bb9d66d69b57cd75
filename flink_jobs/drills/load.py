"""A steady, real-time load: generated fan.interactions events sent as their time comes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flink_jobs.errors import UserError
from flink_jobs.generator import GeneratorConfig, interactions
from flink_jobs.producer import GovernedProducer

log = logging.getLogger("sportsfeat.drills")
CONFIRM_EVERY_S = 1.0
CONFIRM_TIMEOUT_S = 15.0


class SteadyLoad(threading.Thread):
    """Events whose event time is the wall clock, `rate` per second, until stopped.

    Like a careful producer application, it confirms its sends every second; when they are
    not acknowledged in time (a broker restart can leave a producer stuck) it starts a new
    producer and sends the unconfirmed events again: at-least-once delivery, which the job's
    deduplication by event id must absorb.
    """

    def __init__(
        self, producer: Callable[[], GovernedProducer], rate: float, users: int, seed: int
    ) -> None:
        super().__init__(name="steady-load", daemon=True)
        self._new_producer = producer
        self._producer = producer()
        start = int(time.time() * 1000)
        self._config = GeneratorConfig(
            seed=seed, users=users, start_ms=start, events_per_second=rate
        )
        self._stopping = threading.Event()
        self.sent = 0
        self.resent = 0

    def run(self) -> None:
        start_ms, wall_start = self._config.start_ms, time.monotonic()
        unconfirmed: list[dict[str, object]] = []
        confirmed_at = time.monotonic()
        for event in interactions(self._config):
            due = (event["event_time"] - start_ms) / 1000 - (time.monotonic() - wall_start)
            if due > 0 and self._stopping.wait(due):
                break
            self._producer.send(event)
            unconfirmed.append(event)
            self.sent += 1
            if time.monotonic() - confirmed_at >= CONFIRM_EVERY_S:
                self._confirm(unconfirmed)
                unconfirmed, confirmed_at = [], time.monotonic()
        self._confirm(unconfirmed)

    def _confirm(self, events: list[dict[str, object]]) -> None:
        while True:
            try:
                self._producer.flush(CONFIRM_TIMEOUT_S)
                return
            except UserError as exc:
                log.warning("sends not confirmed (%s): new producer, %d resent", exc, len(events))
                self._producer = self._new_producer()
                for event in events:
                    self._producer.send(event)
                self.resent += len(events)

    def stop(self) -> None:
        self._stopping.set()
        self.join(180)
