"""What a version of the feature job computes, as plain data: each group's definition and
generated SQL, each source's SQL, and the topics they read and write.

Recorded with every deployment (flink_jobs/deployments.py), so an upgrade compares the
running version with the new one without needing the running version's code.
"""

from __future__ import annotations

from typing import Any

from flink_jobs.features.columns import source_columns
from flink_jobs.features.compile import Mode, group_statements, source_statements
from flink_jobs.features.model import FeatureGroup
from flink_jobs.features.released import as_data
from flink_jobs.job_config import JobConfig

Manifest = dict[str, Any]


def group_key(group: FeatureGroup) -> str:
    """A group version as job configs and manifests name it: user_activity.v1."""
    return f"{group.name}.v{group.version}"


def manifest(config: JobConfig) -> Manifest:
    groups = config.feature_groups()
    return {
        "sources": {
            source.topic: {
                "reads": config.source_topic(source),
                "sql": [
                    s.sql()
                    for s in source_statements(
                        source, list(source_columns(source.topic)), Mode.STREAMING
                    )
                ],
            }
            for source in config.sources()
        },
        "groups": {
            group_key(group): {
                "definition": as_data(group),
                "sql": [s.sql() for s in group_statements(group, Mode.STREAMING)],
                "writes": config.feature_topic(group),
            }
            for group in groups
        },
    }


def feature_topics(m: Manifest) -> dict[str, str]:
    """Group key by the feature topic it writes."""
    return {spec["writes"]: key for key, spec in m["groups"].items()}
