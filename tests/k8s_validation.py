"""Offline checks of the Kubernetes manifests: render with the pinned kustomize, validate every
object against the schema the API server would apply, rejecting what it would silently drop.

- Core kinds: the Kubernetes API's JSON schemas bundled in `kubernetes-validate`, strict
  (unknown fields are errors).
- Custom resources: the `openAPIV3Schema` of the CRDs under k8s/schemas/. The API server
  prunes unknown fields of a structural schema without a word, so every object schema that
  neither is a map (`additionalProperties`) nor sets `x-kubernetes-preserve-unknown-fields`
  gets `additionalProperties: false` here; `metadata` is checked as core ObjectMeta.
- A kind with neither fails: nothing rendered goes unchecked.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource

from flink_jobs.k8s_tools import kustomize_binary
from flink_jobs.settings import PROJECT_ROOT, load_settings

K8S = PROJECT_ROOT / "k8s"
OVERLAYS = ("dev", "prod")
SCHEMAS = K8S / "schemas"
# The oldest Kubernetes the manifests must apply to.
KUBERNETES_VERSION = "1.33"
DEFINITIONS = "https://kubernetes.io/api/_definitions.json"
OBJECT_META = {"$ref": f"{DEFINITIONS}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
# Fields the operator accepts missing but this project never leaves out (a FlinkDeployment
# without an image runs plain Flink; without an upgradeMode, upgrades drop state).
REQUIRED = {
    ("flink.apache.org", "FlinkDeployment"): {
        "spec": ["image", "flinkVersion", "serviceAccount", "jobManager", "taskManager", "job"],
        "spec.job": ["jarURI", "entryClass", "args", "parallelism", "upgradeMode", "state"],
    },
}

Manifest = dict[str, Any]


def render(kustomization: Path) -> list[Manifest]:
    """`kustomize build` of a kustomization directory, as objects."""
    binary = kustomize_binary(load_settings())
    assert binary.is_file(), f"{binary} is missing: `./dev setup` (sportsfeat setup) builds it"
    result = subprocess.run(
        [str(binary), "build", str(kustomization)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"kustomize build {kustomization}: {result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def name_of(manifest: Manifest) -> str:
    return f"{manifest.get('kind')}/{manifest.get('metadata', {}).get('name')}"


def _strict(node: Any) -> Any:
    """A copy of an OpenAPI schema in which objects admit only their declared fields."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    strict = {key: _strict(value) for key, value in node.items()}
    is_object = node.get("type") == "object" or "properties" in node
    if (
        is_object
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        strict["additionalProperties"] = False
    return strict


def _require(schema: Manifest, required: dict[str, list[str]]) -> None:
    for path, names in required.items():
        node = schema
        for part in path.split("."):
            node = node["properties"][part]
        node["required"] = names


@dataclass(frozen=True)
class CustomResource:
    group: str
    version: str
    kind: str
    schema: Manifest


@cache
def _definitions() -> Resource[Any]:
    folder = f"v{KUBERNETES_VERSION}.0-local-strict"
    path = resources.files(kubernetes_validate) / "kubernetes-json-schema" / folder
    return Resource.from_contents(json.loads((path / "_definitions.json").read_text()))


@cache
def custom_resources() -> dict[tuple[str, str], Draft202012Validator]:
    """A validator per (apiVersion, kind) of every CRD under k8s/schemas/."""
    registry: Registry[Any] = Registry().with_resource(DEFINITIONS, _definitions())
    validators = {}
    for path in sorted(SCHEMAS.rglob("*.y*ml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            api_version = f"{group}/{version['name']}"
            schema = _strict(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
            _require(schema, REQUIRED.get((group, kind), {}))
            schema["properties"].update(
                apiVersion={"const": api_version},
                kind={"const": kind},
                metadata=OBJECT_META,
            )
            schema["required"] = ["apiVersion", "kind", "metadata"]
            validators[(api_version, kind)] = Draft202012Validator(schema, registry=registry)
    return validators


def _field_path(error: ValidationError) -> str:
    """The offending field's path, e.g. spec.job.upgradeMod (the field itself, not its parent)."""
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        declared = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        parts.append(",".join(sorted(k for k in error.instance if k not in declared)))
    elif error.validator == "required":
        parts.append(str(error.message).split("'")[1])
    return ".".join(parts) or "(root)"


def errors(manifest: Manifest) -> list[str]:
    """Every reason the API server would reject or silently change `manifest`; one line each."""
    key = (manifest.get("apiVersion", ""), manifest.get("kind", ""))
    validator = custom_resources().get(key)
    if validator is not None:
        found = sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
        return [f"{name_of(manifest)}: {_field_path(e)}: {e.message}" for e in found]
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{name_of(manifest)}: {_field_path(exc)}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [
            f"{name_of(manifest)}: no schema for {key[0]} {key[1]}: "
            "put its CustomResourceDefinition under k8s/schemas/"
        ]
    return []
