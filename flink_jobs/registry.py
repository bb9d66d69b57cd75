"""The Confluent-compatible schema registry API (Apicurio's /apis/ccompat/v7), as used here.

Only the endpoints the platform relies on; the integration tests exercise each one
against the real registry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from flink_jobs.errors import UserError
from flink_jobs.settings import PROJECT_ROOT

SCHEMA_DIR = PROJECT_ROOT / "schemas"
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


@dataclass(frozen=True)
class SchemaFile:
    """A `<topic>-value.avsc` file: its subject is its file name, per the topic naming strategy."""

    path: Path

    @property
    def subject(self) -> str:
        return self.path.name.removesuffix(".avsc")

    @property
    def topic(self) -> str:
        return self.subject.removesuffix("-value")

    def schema(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.path.read_text())
        return parsed

    def canonical(self) -> str:
        return json.dumps(self.schema(), separators=(",", ":"))


def schema_files() -> list[SchemaFile]:
    return [SchemaFile(p) for p in sorted(SCHEMA_DIR.glob("*-value.avsc"))]


def schema_for_topic(topic: str) -> SchemaFile:
    for schema in schema_files():
        if schema.topic == topic:
            return schema
    raise UserError(f"no schema for topic {topic!r} in {SCHEMA_DIR}")


class RegistryUnavailable(UserError):
    """The registry did not answer, or failed (5xx): an outage, not a bad record."""


class RegistryClient:
    def __init__(self, url: str, user_info: str = "", timeout: float = 5.0) -> None:
        """`user_info`: user:password for HTTP basic auth; empty = none."""
        self.url = url.rstrip("/")
        user, _, password = user_info.partition(":")
        self._http = httpx.Client(
            timeout=timeout,
            headers={"Content-Type": CONTENT_TYPE},
            auth=(user, password) if user_info else None,
        )

    def _call(self, method: str, path: str, body: object = None) -> httpx.Response:
        try:
            response = self._http.request(method, self.url + path, json=body)
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(
                f"schema registry at {self.url} does not answer ({exc}): "
                "start the stack with `sportsfeat stack up`"
            ) from exc
        if response.status_code >= 500:
            raise RegistryUnavailable(
                f"schema registry at {self.url} answered {response.status_code} to "
                f"{method} {path}: {response.text[:200]}"
            )
        return response

    def subjects(self) -> list[str]:
        result: list[str] = self._call("GET", "/subjects").json()
        return result

    def set_compatibility(self, subject: str, level: str) -> None:
        response = self._call("PUT", f"/config/{subject}", {"compatibility": level})
        if response.status_code != 200:
            raise UserError(f"cannot set compatibility of {subject}: {response.text}")

    def compatibility(self, subject: str) -> str | None:
        response = self._call("GET", f"/config/{subject}")
        if response.status_code == 404:
            return None
        body = response.json()
        # Confluent answers {"compatibilityLevel": ...}; accept both spellings.
        level = body.get("compatibilityLevel") or body.get("compatibility")
        return str(level) if level else None

    def is_compatible(self, subject: str, schema: str) -> bool:
        """Whether `schema` may be registered under `subject` (True for a new subject)."""
        response = self._call(
            "POST", f"/compatibility/subjects/{subject}/versions/latest", {"schema": schema}
        )
        if response.status_code == 404:
            return True
        return bool(response.json().get("is_compatible"))

    def register(self, subject: str, schema: str) -> int:
        response = self._call("POST", f"/subjects/{subject}/versions", {"schema": schema})
        if response.status_code == 409:
            raise UserError(f"{subject}: the registry rejects the schema as incompatible")
        if response.status_code != 200:
            raise UserError(
                f"{subject}: registration failed ({response.status_code}): {response.text}"
            )
        return int(response.json()["id"])

    def schema_by_id(self, schema_id: int) -> str | None:
        response = self._call("GET", f"/schemas/ids/{schema_id}")
        return str(response.json()["schema"]) if response.status_code == 200 else None

    def latest(self, subject: str) -> tuple[int, int, str] | None:
        """(id, version, schema) of the subject's latest version, None if never registered."""
        response = self._call("GET", f"/subjects/{subject}/versions/latest")
        if response.status_code == 404:
            return None
        body = response.json()
        return int(body["id"]), int(body["version"]), str(body["schema"])
