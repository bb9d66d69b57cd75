"""The short drills on every submission: a TaskManager kill -9 and a hard broker restart
under steady load with poison pills; the oracle finds nothing lost and nothing duplicated."""

from __future__ import annotations

from flink_jobs.drills.faults import QUICK
from flink_jobs.drills.run import run_drills
from flink_jobs.settings import Settings


def test_quick_drills_lose_and_duplicate_nothing(stack: Settings) -> None:
    report = run_drills(stack, list(QUICK), rate=200, command="pytest: drills --quick", say=print)
    assert [d.drill for d in report.drills] == list(QUICK)
    assert all(d.checkpoints >= 2 for d in report.drills)
    assert report.input.bad_records > 0 and report.dead_letters == report.input.bad_records
    assert all(g.expected > 0 for g in report.groups if g.group == "user_activity")
    assert report.ok, report.markdown()
