"""A Python client of the feature-serving API, on one keep-alive HTTP connection pool."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from flink_jobs.serving import API_KEY_HEADER

At = int | str | None  # a v2 request time: epoch ms, or ISO 8601 with a zone


class FeatureApiError(Exception):
    """The API answered with an error (or did not answer): `status` 0 means no answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status
        self.message = message


class FeatureClient:
    """Reads online features; any 4xx/5xx raises FeatureApiError with the server's message.

    `transport` replaces the network (as in tests); by default one keep-alive pool is used.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 2.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {API_KEY_HEADER: api_key} if api_key else {}
        self._http = httpx.Client(
            base_url=base_url, headers=headers, timeout=timeout, transport=transport
        )

    def get(self, group: str, version: int, entity_id: str, at: At = None) -> dict[str, Any]:
        """The entity's features with status, event time and age (see the API's OpenAPI);
        `at`: a v2 group's request time (epoch ms or ISO 8601), default now."""
        path = f"/features/{group}/v{version}/{quote(entity_id, safe='')}"
        body: dict[str, Any] = self._call("GET", path, at=at)
        return body

    def get_batch(
        self, group: str, version: int, entity_ids: Sequence[str], at: At = None
    ) -> list[dict[str, Any]]:
        """Many entities' features, in the order asked, in one request (v2: all at `at`)."""
        body = self._call(
            "POST", f"/features/{group}/v{version}/batch", {"entity_ids": list(entity_ids)}, at
        )
        results: list[dict[str, Any]] = body["results"]
        return results

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> FeatureClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: str, path: str, body: object = None, at: At = None) -> Any:
        params = {} if at is None else {"at": str(at)}
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise FeatureApiError(0, f"feature API at {self._http.base_url}: {exc}") from exc
        if response.is_error:
            raise FeatureApiError(response.status_code, _detail(response))
        return response.json()


def _detail(response: httpx.Response) -> str:
    """The server's message: FastAPI's ``detail`` (a string, or a list of validation errors)."""
    try:
        detail = response.json()["detail"]
    except (ValueError, KeyError, TypeError):
        return response.text or response.reason_phrase
    if isinstance(detail, list):
        return "; ".join(f"{'.'.join(map(str, e.get('loc', [])))}: {e.get('msg')}" for e in detail)
    return str(detail)
