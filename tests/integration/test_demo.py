"""`sportsfeat demo`, the README's first command, on the real stack: it tells one story."""

from __future__ import annotations

import os
import subprocess
import sys

from flink_jobs.features.catalogue import CATALOGUE
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import Settings
from flink_jobs.submit import active_job_id
from tests.integration.conftest import remove_job


def test_the_demo_shows_each_window_once_every_group_and_what_next(stack: Settings) -> None:
    job_name = JobConfig.job_name
    ran_before = active_job_id(stack, job_name) is not None
    try:
        result = subprocess.run(
            [sys.executable, "-m", "flink_jobs.cli", "demo"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env={**os.environ, **stack.as_environment()},
        )
    finally:
        if not ran_before:  # the other tests run beside no job of the whole catalogue
            remove_job(stack, job_name)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    lines = result.stdout.splitlines()
    windows = [line.split(" UTC:")[0] for line in lines if line.startswith("  window ")]
    assert len(windows) >= 2 and len(windows) == len(set(windows)), windows
    vector = lines[next(i for i, line in enumerate(lines) if line.startswith("vector ")) :]
    for group in CATALOGUE:
        assert any(line.startswith(f"  {group.name} ") for line in vector), group.name
    assert any("fresh" in line for line in vector)
    assert any("sportsfeat stack down" in line for line in lines[-8:])
