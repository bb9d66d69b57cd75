"""The same job runs in a local mini-cluster (what `sportsfeat run --local` starts), without
the cluster."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from flink_jobs.producer import GovernedProducer
from flink_jobs.settings import PROJECT_ROOT, Settings
from flink_jobs.stack.jars import connector_jars
from flink_jobs.topic_tail import as_ms, tail_batches
from tests.integration.conftest import job_topics
from tests.integration.events import MINUTE, event


def test_local_mini_cluster_computes_the_same_features(stack: Settings, unique: str) -> None:
    config = job_topics(stack, unique)
    t0 = (int(time.time() * 1000) // MINUTE - 30) * MINUTE
    GovernedProducer(
        config.bootstrap, config.registry_url, config.source_topic, "user_id"
    ).send_all([event("eve", t0, 5, "complete", 7_000), event("eve", t0, 9), event("fay", t0, 90)])
    jars = ";".join(jar.as_uri() for jar in connector_jars())
    job = subprocess.Popen(
        [sys.executable, "-m", "flink_jobs.job", "--local", jars, *config.config.argv()],
        cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        rows = []
        for batch in tail_batches(
            config.bootstrap, config.registry_url, config.feature_topic, True, 120
        ):
            rows += batch
            if rows:
                break
        assert [(user, as_ms(v["window_end"]), v["user_interactions_count_1m"],
                 v["user_watch_ms_sum_1m"]) for user, v in rows] == [
            ("eve", t0 + MINUTE, 2, 7_000)
        ]  # fmt: skip
    finally:
        os.killpg(job.pid, signal.SIGTERM)
        job.wait(30)
