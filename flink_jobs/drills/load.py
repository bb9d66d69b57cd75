"""A steady, real-time load: generated fan.interactions events sent as their time comes."""

from __future__ import annotations

import threading
import time

from flink_jobs.generator import GeneratorConfig, interactions
from flink_jobs.producer import GovernedProducer


class SteadyLoad(threading.Thread):
    """Events whose event time is the wall clock, `rate` per second, until stopped.

    The producer is idempotent and retries through broker restarts; whatever it could not
    deliver is simply not in the input log, which is what the oracle reads back.
    """

    def __init__(self, producer: GovernedProducer, rate: float, users: int, seed: int) -> None:
        super().__init__(name="steady-load", daemon=True)
        self._producer = producer
        start = int(time.time() * 1000)
        self._config = GeneratorConfig(
            seed=seed, users=users, start_ms=start, events_per_second=rate
        )
        self._stopping = threading.Event()
        self.sent = 0

    def run(self) -> None:
        start_ms = self._config.start_ms
        wall_start = time.monotonic()
        for event in interactions(self._config):
            due = (event["event_time"] - start_ms) / 1000 - (time.monotonic() - wall_start)
            if due > 0 and self._stopping.wait(due):
                break
            self._producer.send(event)
            self.sent += 1
        self._producer.flush(120)

    def stop(self) -> None:
        self._stopping.set()
        self.join(180)
