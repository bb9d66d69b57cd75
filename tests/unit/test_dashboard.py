"""The Grafana dashboard: valid against Grafana's own dashboard schema, every query on an
exported metric, and shipped by the monitoring Component."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped,unused-ignore]  # stubs: types-jsonschema
import yaml

from flink_jobs.metrics import (
    API_LATENCY,
    CHECKPOINT_DURATION,
    CONSUMER_LAG,
    FEATURE_UPDATES,
    FRESHNESS,
    PIPELINE_RECORDS,
    SERIES,
    SOURCE_PENDING_RECORDS,
)
from flink_jobs.settings import PROJECT_ROOT
from tests.promql import metric_names

MONITORING = PROJECT_ROOT / "k8s" / "monitoring"
DASHBOARD = MONITORING / "dashboards" / "sportsfeat.json"
# Grafana's dashboard model (@grafana/schema 13.2.3) as JSON Schema: see ./grafana_schema/regenerate
SCHEMA = PROJECT_ROOT / "tests" / "unit" / "grafana_schema" / "dashboard.schema.json"


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panels() -> list[dict[str, Any]]:
    return [panel for panel in dashboard()["panels"] if panel["type"] != "row"]


def test_the_dashboard_is_valid_grafana_dashboard_json() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(dashboard(), schema)


def test_the_schema_refuses_what_grafana_would_not_load() -> None:
    """The check can fail: a misspelt panel field, and a panel without a type."""
    schema = json.loads(SCHEMA.read_text())
    variants: list[dict[str, Any]] = [{"gridpos": {}}, {"type": None}]
    for broken in variants:
        board = dashboard()
        board["panels"][1] = {**board["panels"][1], **broken}
        assert not jsonschema.Draft7Validator(schema).is_valid(board)


def test_every_query_names_metrics_the_platform_exports() -> None:
    for panel in panels():
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            read = metric_names(target["expr"])
            assert read, f"{panel['title']}: {target['expr']}"
            assert read <= SERIES, f"{panel['title']} reads {sorted(read - SERIES)}"


def test_it_shows_throughput_freshness_lag_checkpoints_dead_letters_late_events_latency() -> None:
    exprs = [target["expr"] for panel in panels() for target in panel["targets"]]
    read = set().union(*(metric_names(expr) for expr in exprs))
    for metric in (FRESHNESS, CONSUMER_LAG, SOURCE_PENDING_RECORDS, CHECKPOINT_DURATION):
        assert metric.name in read
    assert {f"{FEATURE_UPDATES.name}_total", f"{API_LATENCY.name}_bucket"} <= read
    for kind in ("read", "dead_letter", "late"):
        assert any(PIPELINE_RECORDS.name in e and f'kind="{kind}"' in e for e in exprs), kind


def test_panels_have_unique_ids_and_fit_the_grid() -> None:
    board = dashboard()["panels"]
    assert len({panel["id"] for panel in board}) == len(board)
    for panel in board:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_the_component_ships_rules_monitors_and_the_dashboard() -> None:
    component = yaml.safe_load((MONITORING / "kustomization.yaml").read_text())
    assert component["kind"] == "Component"
    for resource in component["resources"]:
        assert (MONITORING / resource).is_file(), resource
    [generator] = component["configMapGenerator"]
    assert generator["files"] == [str(DASHBOARD.relative_to(MONITORING))]
    assert generator["options"]["labels"]["grafana_dashboard"] == "1"
    monitors = list(yaml.safe_load_all((MONITORING / "pod-monitors.yaml").read_text()))
    assert {m["metadata"]["name"] for m in monitors} == {
        "sportsfeat-flink",
        "sportsfeat-writer",
        "sportsfeat-api",
    }
