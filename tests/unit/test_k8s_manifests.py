"""k8s/, offline: every overlay renders with the pinned kustomize, every object passes the
schema the API server applies (unknown fields included), and what the manifests say agrees
with the job, the image, the settings module and the secret template."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

import pytest
import yaml

from flink_jobs.job import job_settings, take_option
from flink_jobs.job_config import JobConfig
from flink_jobs.settings import ENV_PREFIX, PROJECT_ROOT, Settings, load_settings
from flink_jobs.stack.flink_cluster import flink_config
from tests.k8s_validation import K8S, OVERLAYS, Manifest, errors, render
from tests.unit.test_dockerfile import baked_plan, locked

FLINK = locked()["apache-flink"]
SECRET = "sportsfeat-credentials"  # noqa: S105 (a Secret's name)
# Objects prod refers to but never renders: created outside git.
EXTERNAL = {"dev": set(), "prod": {SECRET, "kafka-cluster-ca"}}


def job_config(args: list[str], environment: str) -> JobConfig:
    """The job's configuration; it runs the environment's released plan (test_dockerfile)."""
    plan, rest = take_option(args[2:], "--plan")
    assert plan == baked_plan(environment)
    return JobConfig.parse(rest)


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Manifest]]:
    return {name: render(K8S / "overlays" / name) for name in OVERLAYS}


def only(objects: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    (found,) = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    return found


def pod_specs(objects: list[Manifest]) -> Iterator[tuple[Manifest, dict[str, Any]]]:
    """Each workload's pod template: Deployments', and the FlinkDeployment's (JM and TMs)."""
    for o in objects:
        if o["kind"] == "Deployment":
            yield o["spec"]["template"], o["spec"]["template"]["spec"]
        elif o["kind"] == "FlinkDeployment":
            yield o["spec"]["podTemplate"], o["spec"]["podTemplate"]["spec"]


def test_every_rendered_object_passes_its_schema(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    objects = rendered[overlay]
    assert {o["kind"] for o in objects} >= {
        "FlinkDeployment",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "PodMonitor",  # the monitoring component
        "PrometheusRule",
    }
    assert [e for o in objects for e in errors(o)] == []


DELETE = object()
# (kind, name, field path, new value or DELETE, what the error says after "<path>: ")
BROKEN = [
    ("FlinkDeployment", None, "spec.job.upgradeMod", "savepoint", "Additional properties"),
    ("FlinkDeployment", None, "spec.podTemplate.spec.containers.0.imagePullPolcy", "Always",
     "Additional properties"),
    ("FlinkDeployment", None, "metadata.label", {}, "Additional properties"),
    ("FlinkDeployment", None, "spec.job.parallelism", "4", "'4' is not of type 'integer'"),
    ("FlinkDeployment", None, "spec.flinkVersion", "v2_3", "'v2_3' is not one of"),
    ("FlinkDeployment", None, "spec.job.jarURI", DELETE, "'jarURI' is a required property"),
    ("Deployment", "online-store-writer", "spec.template.spec.containers.0.livenesProbe", {},
     "Additional properties"),
    ("Deployment", "online-store-writer", "spec.template.spec.containers.0.name", DELETE,
     "'name' is a required property"),
    ("Service", None, "spec.ports.0.port", "80", "'80' is not of type 'integer'"),
    ("PodMonitor", "sportsfeat-api", "spec.podMetricsEndpoints.0.intervall", "15s",
     "Additional properties"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "name", "path", "value", "says"), BROKEN, ids=lambda x: str(x))
def test_a_broken_manifest_is_rejected_naming_the_field(
    rendered: dict[str, list[Manifest]],
    kind: str,
    name: str | None,
    path: str,
    value: Any,
    says: str,
) -> None:
    manifest = copy.deepcopy(only(rendered["prod"], kind, name))
    *parents, last = path.split(".")
    node: Any = manifest
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    found = errors(manifest)
    assert any(f": {path}: {says}" in line for line in found), found


def test_a_kind_without_a_schema_is_rejected(rendered: dict[str, list[Manifest]]) -> None:
    service = copy.deepcopy(only(rendered["prod"], "Service"))
    service["apiVersion"] = "example.com/v1"
    assert errors(service) == [
        "Service/feature-api: no schema for example.com/v1 Service: "
        "put its CustomResourceDefinition under k8s/schemas/"
    ]


def test_the_job_runs_as_the_project_runs_it(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    deployment = only(rendered[overlay], "FlinkDeployment")
    spec, job = deployment["spec"], deployment["spec"]["job"]
    conf: dict[str, Any] = spec["flinkConfiguration"]
    assert all(isinstance(v, str) for v in conf.values()), "Flink config values are strings"
    assert spec["flinkVersion"] == "v" + "_".join(FLINK.split(".")[:2])
    assert job["jarURI"] == f"local:///opt/flink/opt/flink-python-{FLINK}.jar"
    assert job["entryClass"] == "org.apache.flink.client.python.PythonDriver"
    assert job["args"][:2] == ["-pym", "flink_jobs.job"]
    config = job_config(job["args"], overlay)
    assert config.job_name == deployment["metadata"]["name"]
    assert config.parallelism == job["parallelism"]
    # The job sets these itself; the cluster config says the same, for the operator's view.
    checkpointing = {
        k: v for k, v in job_settings(config).items() if k.startswith("execution.checkpointing.")
    }
    assert {k: conf.get(k) for k in checkpointing} == checkpointing
    local = flink_config(Settings(), PROJECT_ROOT)
    same_as_local = [k for k in local if k.startswith(("restart-strategy.", "state.backend."))]
    same_as_local += ["execution.checkpointing.incremental", "metrics.reporter.prom.factory.class"]
    same_as_local += ["execution.checkpointing.externalized-checkpoint-retention"]
    for key in same_as_local:
        value = local[key]
        assert conf[key] == (str(value).lower() if isinstance(value, bool) else str(value)), key
    assert conf["python.client.executable"] == conf["python.executable"] == "/opt/venv/bin/python"


def test_upgrades_go_through_savepoints_on_s3(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    deployment = only(rendered[overlay], "FlinkDeployment")
    job, conf = deployment["spec"]["job"], deployment["spec"]["flinkConfiguration"]
    assert (job["upgradeMode"], job["state"], job["allowNonRestoredState"]) == (
        "savepoint",
        "running",
        False,
    )
    assert conf["kubernetes.operator.job.upgrade.last-state-fallback.enabled"] == "false"
    assert conf["high-availability.type"] == "kubernetes"
    name = deployment["metadata"]["name"]
    for key in (
        "execution.checkpointing.dir",
        "execution.checkpointing.savepoint-dir",
        "high-availability.storageDir",
    ):
        assert conf[key].startswith("s3://") and f"/{name}/" in conf[key], key
    assert conf["kubernetes.operator.periodic.savepoint.interval"] not in ("0", "0 ms")
    assert int(conf["kubernetes.operator.savepoint.history.max.count"]) > 0
    assert conf["kubernetes.operator.savepoint.history.max.age"]
    (main,) = deployment["spec"]["podTemplate"]["spec"]["containers"]
    plugins = {e["name"]: e.get("value") for e in main["env"]}["ENABLE_BUILT_IN_PLUGINS"]
    assert plugins == f"flink-s3-fs-hadoop-{FLINK}.jar"


def test_one_pinned_image_everywhere(rendered: dict[str, list[Manifest]], overlay: str) -> None:
    images = {c.get("image") for _, pod in pod_specs(rendered[overlay]) for c in pod["containers"]}
    images |= {o["spec"]["image"] for o in rendered[overlay] if o["kind"] == "FlinkDeployment"}
    (image,) = images - {None}
    name, _, tag = image.rpartition(":")
    assert name.endswith("/sportsfeat") and tag not in ("", "latest"), image


def environment(objects: list[Manifest], container: dict[str, Any]) -> dict[str, str]:
    """A container's environment; a secret's value is a stand-in naming its key."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env |= only(objects, "ConfigMap", source["configMapRef"]["name"])["data"]
    for var in container.get("env", []):
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        env[var["name"]] = f"stand-in:{ref['key']}" if ref else var["value"]
    return env


def test_every_workload_environment_is_valid_settings(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    known = {ENV_PREFIX + f.name.upper() for f in fields(Settings)}
    for template, pod in pod_specs(rendered[overlay]):
        for container in pod["containers"]:
            env = environment(rendered[overlay], container)
            assert {k for k in env if k.startswith(ENV_PREFIX)} <= known  # no ignored typo
            settings = load_settings(env)
            assert settings.environment == overlay
            assert settings.host == "0.0.0.0"  # noqa: S104 (pods listen on their own IP)
            defaults = Settings()
            assert settings.kafka_bootstrap != defaults.kafka_bootstrap
            assert settings.registry_url != defaults.registry_url
            assert settings.redis_endpoint != defaults.redis_endpoint
            if overlay == "prod":
                assert settings.kafka_security_protocol == "SASL_SSL"
                mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
                role = template["metadata"]["labels"]["app.kubernetes.io/component"]
                if role != "api":  # the API reads Redis only
                    assert any(settings.kafka_ssl_ca_file.startswith(m + "/") for m in mounts)


def test_every_reference_resolves(rendered: dict[str, list[Manifest]], overlay: str) -> None:
    objects = rendered[overlay]
    present = {o["metadata"]["name"] for o in objects if o["kind"] in ("ConfigMap", "Secret")}
    for _, pod in pod_specs(objects):
        names = {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
        for container in pod["containers"]:
            names |= {s["configMapRef"]["name"] for s in container.get("envFrom", [])}
            names |= {
                v["valueFrom"]["secretKeyRef"]["name"]
                for v in container.get("env", [])
                if "secretKeyRef" in v.get("valueFrom", {})
            }
        assert names - present <= EXTERNAL[overlay], names - present
    accounts = {o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"}
    for o in objects:
        if o["kind"] == "FlinkDeployment":
            assert o["spec"]["serviceAccount"] in accounts
        elif o["kind"] == "Deployment":
            assert o["spec"]["template"]["spec"]["serviceAccountName"] in accounts


def secret_keys(objects: list[Manifest]) -> set[str]:
    return {
        v["valueFrom"]["secretKeyRef"]["key"]
        for _, pod in pod_specs(objects)
        for c in pod["containers"]
        for v in c.get("env", [])
        if v.get("valueFrom", {}).get("secretKeyRef", {}).get("name", "").startswith(SECRET)
    }


def test_credentials_stay_out_of_git(rendered: dict[str, list[Manifest]]) -> None:
    assert [o for o in rendered["prod"] if o["kind"] == "Secret"] == []
    template = yaml.safe_load((K8S / "secret.example.yaml").read_text())
    assert template["metadata"]["name"] == SECRET
    assert set(template["stringData"]) == secret_keys(rendered["prod"])
    (dev,) = [o for o in rendered["dev"] if o["kind"] == "Secret"]
    assert set(dev["data"]) == secret_keys(rendered["dev"])
    for value in dev["data"].values():
        assert base64.b64decode(value).decode().endswith("-not-a-secret")


def test_every_workload_is_scraped_on_its_metrics_port(
    rendered: dict[str, list[Manifest]], overlay: str
) -> None:
    defaults = Settings()
    expected = {
        "feature-job": int(
            only(rendered[overlay], "FlinkDeployment")["spec"]["flinkConfiguration"][
                "metrics.reporter.prom.port"
            ]
        ),
        "writer": defaults.writer_metrics_port,
        "api": defaults.api_port,
    }
    for template, pod in pod_specs(rendered[overlay]):
        annotations = template["metadata"]["annotations"]
        role = template["metadata"]["labels"]["app.kubernetes.io/component"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert int(annotations["prometheus.io/port"]) == expected[role]
        ports = {p["containerPort"] for c in pod["containers"] for p in c.get("ports", [])}
        assert expected[role] in ports


def test_the_api_probes_are_its_health_routes(rendered: dict[str, list[Manifest]]) -> None:
    api = only(rendered["prod"], "Deployment", "feature-api")
    (container,) = api["spec"]["template"]["spec"]["containers"]
    routes = json.loads((PROJECT_ROOT / "docs" / "openapi.json").read_text())["paths"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz" and "/healthz" in routes
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" and "/readyz" in routes
    assert container["command"][-1] == "serve"
    hpa = only(rendered["prod"], "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == api["metadata"]["name"]
    assert "replicas" not in api["spec"]  # the autoscaler owns it


def merged(base: Any, patch: Any) -> Any:
    """`patch` applied to `base` as a JSON merge patch (maps merged, everything else replaced)."""
    if not (isinstance(base, dict) and isinstance(patch, dict)):
        return copy.deepcopy(patch)
    return {**base, **{k: merged(base.get(k), v) for k, v in patch.items()}}


def test_the_runbooks_manifests_are_valid(rendered: dict[str, list[Manifest]]) -> None:
    """Whole objects are validated as they are; `spec:` fragments as edits of the prod job."""
    text = (PROJECT_ROOT / "docs" / "runbook.md").read_text()
    blocks = [block.split("\n```", 1)[0] for block in text.split("```yaml\n")[1:]]
    deployment = only(rendered["prod"], "FlinkDeployment")
    fragments = 0
    for block in blocks:
        document = yaml.safe_load(block)
        if "apiVersion" not in document:
            assert set(document) == {"spec"}, block
            document = merged(deployment, document)
            job = document["spec"]["job"]
            assert job_config(job["args"], "prod").parallelism == job["parallelism"]
            fragments += 1
        assert errors(document) == [], block
    assert fragments == len(blocks) - 1 >= 4  # one FlinkStateSnapshot, the rest job edits
