"""Flink mini-cluster tests: real Flink (local, in this process's JVM), no Kafka, no stack."""

from __future__ import annotations

import pytest
from pyflink.table import EnvironmentSettings, TableEnvironment

from flink_jobs.features.compile import PLANNER_OPTIONS
from flink_jobs.stack.jars import connector_jars
from udfs import register_java_functions

pytestmark = pytest.mark.flink


def table_env(streaming: bool) -> TableEnvironment:
    settings = (
        EnvironmentSettings.in_streaming_mode()
        if streaming
        else EnvironmentSettings.in_batch_mode()
    )
    t_env = TableEnvironment.create(settings)
    config = t_env.get_config()
    config.set("table.local-time-zone", "UTC")
    config.set("parallelism.default", "1")
    for key, value in PLANNER_OPTIONS.items():
        config.set(key, value)
    jars = connector_jars()
    config.set("pipeline.jars", ";".join(p.as_uri() for p in jars))
    register_java_functions(t_env)
    return t_env
