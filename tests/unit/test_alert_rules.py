"""The alert rules, as the PrometheusRule ships them: promtool checks and unit-tests them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from flink_jobs.metrics import DEAD_LETTER_SHARE_MAX, FRESHNESS_SLO_S, SERIES
from flink_jobs.settings import PROJECT_ROOT
from flink_jobs.sinks import CHECKPOINT_TIMEOUT_MS
from tests.promql import metric_names

MONITORING = PROJECT_ROOT / "k8s" / "monitoring"
RULES = MONITORING / "prometheus-rules.yaml"
RULE_TESTS = MONITORING / "prometheus-rules.test.yaml"


def spec() -> dict[str, Any]:
    """The rule file Prometheus loads: the PrometheusRule's `spec`."""
    resource = yaml.safe_load(RULES.read_text())
    assert (resource["apiVersion"], resource["kind"]) == (
        "monitoring.coreos.com/v1",
        "PrometheusRule",
    )
    rules: dict[str, Any] = resource["spec"]
    return rules


def alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for group in spec()["groups"] for rule in group["rules"]}


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: run `sportsfeat setup` (installs Debian's prometheus)")
    return subprocess.run(
        [binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_accepts_the_shipped_rules(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(spec()))
    result = promtool("check", "rules", "rules.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


def test_promtool_unit_tests_of_the_rules_pass(tmp_path: Path) -> None:
    """The shipped expressions, durations, labels and summaries. promtool compares every
    annotation of a firing alert, so the static description and runbook are left out here."""
    rules = spec()
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["annotations"] = {"summary": rule["annotations"]["summary"]}
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    result = promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_unit_tests_cover_freshness_lag_and_dead_letters() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    required = {"FeatureFreshnessSLOBreached", "WriterLagGrowing", "SourceLagGrowing"}
    assert required | {"DeadLetterRateHigh", "FlinkJobNotRunning"} <= fired


def test_every_alert_has_a_severity_a_summary_and_a_runbook() -> None:
    for name, rule in alerts().items():
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        annotations = rule["annotations"]
        assert set(annotations) == {"summary", "description", "runbook"}, name
        assert annotations["runbook"].startswith(("1. ", "Follow", "Same")), name
        for static in ("description", "runbook"):  # left out of the promtool unit tests
            assert "{{" not in annotations[static], f"{name}: {static} is a template"


def test_every_expression_reads_only_metrics_the_platform_exports() -> None:
    for name, rule in alerts().items():
        read = metric_names(rule["expr"])
        assert read, name
        assert read <= SERIES, f"{name} reads {sorted(read - SERIES)}, not in flink_jobs.metrics"


def test_thresholds_are_the_ones_the_code_uses() -> None:
    rules = alerts()
    assert f"> {FRESHNESS_SLO_S}" in rules["FeatureFreshnessSLOBreached"]["expr"]
    assert f"> {DEAD_LETTER_SHARE_MAX}" in rules["DeadLetterRateHigh"]["expr"]
    near_timeout = int(CHECKPOINT_TIMEOUT_MS * 0.75)
    assert f"> {near_timeout}" in rules["FlinkCheckpointSlow"]["expr"]


def test_metric_names_of_an_expression() -> None:
    expr = (
        'sum by (source) (rate(a_total{kind="x",route=~"/f.*"}[5m])) / on (source) group_left '
        "sum(rate(b_bucket[$__rate_interval])) > 0.5 or absent(c) and time() - d"
    )
    assert metric_names(expr) == {"a_total", "b_bucket", "c", "d"}
