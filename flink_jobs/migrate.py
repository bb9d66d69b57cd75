"""`sportsfeat catalogue migrate <group>`: the way to change a running group's definition.

A running group version never changes in place (flink_jobs/compatibility.py refuses it).
Its successor v<n+1>, declared beside v<n> in the catalogue, is computed by a job of its own,
`<job>-<group>-v<n+1>`, started from a compiled plan with a consumer group of its own: it
reads the source topic from the earliest offset Kafka still retains, with the streaming job's
semantics (watermarks, late rows, exactly-once), into features.<group>.v<n+1>. The command
then follows the newest window end of both feature topics and says when v<n+1> has caught
up with v<n>: from then on readers can switch to v<n+1> (/features/<group>/v<n+1>/...).

Limits, said as they are: history older than the source topic's retention is not in
v<n+1> (a window longer than the retention starts incomplete), and v<n> keeps being computed
by the main job (an upgrade never drops a running group's state).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from flink_jobs import upgrade
from flink_jobs.deployments import Deployment
from flink_jobs.errors import UserError
from flink_jobs.features.model import FeatureGroup
from flink_jobs.job_config import JobConfig
from flink_jobs.manifest import group_key
from flink_jobs.progress import Progress
from flink_jobs.tiles.compile import TILED_CATALOGUE
from flink_jobs.topic_tail import newest_event_time

# The newest window end (ms) of a feature topic, None while it is empty.
Newest = Callable[[JobConfig, str], int | None]


@dataclass(frozen=True)
class Migration:
    current: str  # the group version the main job computes, e.g. user_activity.v1
    current_topic: str
    successor: FeatureGroup
    config: JobConfig  # the successor's own job

    @property
    def successor_topic(self) -> str:
        return self.config.feature_topic(self.successor)


def _version(key: str) -> int:
    return int(key.rsplit(".v", 1)[1])


def plan_migration(main: Deployment, group: str) -> Migration:
    groups = main.version.manifest["groups"]
    running = [key for key in groups if key.rsplit(".v", 1)[0] == group]
    if not running:
        raise UserError(
            f"{main.job_name} does not compute {group}; it computes {', '.join(groups)}"
        )
    current = max(running, key=_version)
    successor_key = f"{group}.v{_version(current) + 1}"
    name = f"{main.job_name}-{group}-v{_version(current) + 1}"
    config = replace(
        main.version.job_config(), groups=successor_key, job_name=name, consumer_group=name
    )
    try:
        [successor] = config.feature_groups()
    except ValueError:
        raise UserError(
            f"{successor_key} is not declared: in flink_jobs/features/catalogue.py copy "
            f"{current} into a group with version={_version(current) + 1} and the change, add "
            f"it to CATALOGUE and leave {current} as it is; then run this again"
        ) from None
    if successor in TILED_CATALOGUE:
        raise UserError(
            f"{successor_key} is engine v2's tiled version (a tile stream, not a feature topic): "
            "moving to it is not automated yet; docs/engine-v2.md says what is next"
        )
    return Migration(current, groups[current]["writes"], successor, config)


def newest_window_end(config: JobConfig, topic: str) -> int | None:
    return newest_event_time(config.bootstrap, config.registry_url, topic, "window_end")


def _at(ms: int | None) -> str:
    if ms is None:
        return "no rows yet"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def migrate(
    ctx: upgrade.Context, job_name: str, group: str, wait_s: float,
    newest: Newest = newest_window_end, poll_s: float = 10,
) -> Migration:  # fmt: skip
    """Start (or find) the successor's job; return once it has caught up, or UserError
    after `wait_s` (it keeps running)."""
    main = upgrade.running_deployment(ctx, job_name)
    m = plan_migration(main, group)
    source = m.config.source_topic(m.successor.source)
    ctx.say(
        f"migrate  {m.current} -> {group_key(m.successor)}: job {m.config.job_name} computes it "
        f"from the earliest offsets of {source} that Kafka still retains"
    )
    upgrade.deploy(ctx, m.config, selection=group_key(m.successor))
    started = time.monotonic()
    with Progress("catching up", wait_s, "s", ctx.say) as bar:
        while True:
            old, new = newest(m.config, m.current_topic), newest(m.config, m.successor_topic)
            progress = f"{m.current} at {_at(old)}, {group_key(m.successor)} at {_at(new)}"
            bar.update(time.monotonic() - started, progress)
            if old is not None and new is not None and new >= old:
                break
            if bar.done >= wait_s:
                raise UserError(
                    f"{group_key(m.successor)} has not caught up within {wait_s:.0f} s "
                    f"({progress}); {m.config.job_name} keeps running: run this again to "
                    "follow it"
                )
            time.sleep(poll_s)
    ctx.say(
        f"caught up: {progress}. Readers can switch to {group_key(m.successor)} "
        f"(/features/{group}/v{m.successor.version}/<id>); {m.current} keeps being "
        f"computed by {job_name}"
    )
    return m
