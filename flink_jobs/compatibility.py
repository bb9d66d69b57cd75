"""Can a new version of the feature job take over the running version's state?

The rule, simple and sound: every feature group of the running job is in the new job with
an identical definition and identical generated SQL, every source is read and deduplicated
by identical SQL, and nothing reads or writes other topics; groups may be added (their
state starts empty). Whether the operators keep their ids and state layout is the compiled
plans' part (flink_jobs/plans.py: `plan_changes`). Each problem is one line naming what
changed and the way forward.
"""

from __future__ import annotations

from typing import Any

from flink_jobs.features.released import differences
from flink_jobs.manifest import Manifest


def new_version_path(key: str) -> str:
    name, version = key.rsplit(".v", 1)
    following = int(version) + 1
    return (
        f"a running group version never changes in place (its state and its readers depend on "
        f"it): declare {name} v{following} with the change beside v{version}, then "
        f"`sportsfeat catalogue migrate {name}` computes v{following} from the source topic's "
        "retention and says when it has caught up"
    )


def _source_problems(running: Manifest, new: Manifest) -> list[str]:
    problems = []
    for topic, old in running["sources"].items():
        now = new["sources"].get(topic)
        if now is None:
            continue  # every group reading it is gone: reported per group
        if now["reads"] != old["reads"]:
            problems.append(
                f"source {topic}: the new job reads {now['reads']} instead of {old['reads']} "
                "(the running job's offsets are for its topic)"
            )
        elif now["sql"] != old["sql"]:
            problems.append(
                f"source {topic}: its validation and deduplication SQL changed (the "
                "deduplication state holds its rows, shared by every group): run the changed "
                "job under a new job name beside this one and switch readers when it has "
                "caught up"
            )
    return problems


def _group_problem(key: str, old: dict[str, Any], now: dict[str, Any] | None) -> str | None:
    if now is None:
        return (
            f"{key} is computed by the running job but not by the new one: its state would "
            "be dropped, and a savepoint is never restored with --allowNonRestoredState; keep "
            "the group in the job (--groups)"
        )
    if diff := differences(old["definition"], now["definition"]):
        return f"{key} changed ({'; '.join(diff)}): {new_version_path(key)}"
    if now["sql"] != old["sql"]:
        return (
            f"{key}: its definition is the same but the feature engine now generates other "
            f"SQL for it, so its state may no longer mean the same: {new_version_path(key)}"
        )
    if now["writes"] != old["writes"]:
        return f"{key}: the new job writes {now['writes']} instead of {old['writes']}"
    return None


def manifest_problems(running: Manifest, new: Manifest) -> list[str]:
    """Why the new job cannot take over the running job's state (empty: it can)."""
    problems = _source_problems(running, new)
    for key, old in running["groups"].items():
        problem = _group_problem(key, old, new["groups"].get(key))
        if problem:
            problems.append(problem)
    return problems


def added_groups(running: Manifest, new: Manifest) -> list[str]:
    return [key for key in new["groups"] if key not in running["groups"]]
