"""The feature-serving HTTP API: online features of the catalogued groups, read from Redis.

Every request costs one pipelined Redis round trip on a pooled connection. A value older
than its group's TTL (by event time) is returned marked ``expired``, never as ``fresh``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import redis
import redis.asyncio
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flink_jobs.feature_groups import FEATURE_GROUPS, FeatureGroup, FeatureValue, feature_group
from flink_jobs.online_store import EVENT_TIME, WINDOW_START, WRITTEN_AT
from flink_jobs.serving.auth import api_keys, require_key
from flink_jobs.settings import Settings

MAX_BATCH = 500
ENTITY_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
ENTITY_RULE = "1 to 128 characters from A-Z a-z 0-9 _ . : -"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0)


class Problem(BaseModel):
    detail: str


class EntityFeatures(BaseModel):
    """One entity's value of a feature group, or its absence."""

    group: str
    version: int
    entity_id: str
    status: Literal["fresh", "expired", "missing"]
    features: dict[str, FeatureValue | None] | None
    event_time: datetime | None = Field(description="Event time the values are valid for (UTC)")
    window_start: datetime | None
    written_at: datetime | None
    age_ms: int | None = Field(description="Now minus event time")


class BatchRequest(BaseModel):
    entity_ids: list[str] = Field(description=f"1 to {MAX_BATCH} entity ids")


class BatchResponse(BaseModel):
    group: str
    version: int
    results: list[EntityFeatures] = Field(description="In request order")


class Health(BaseModel):
    status: str


class StorePipeline(Protocol):
    def hgetall(self, name: str) -> Any: ...
    async def execute(self) -> list[Any]: ...


class Store(Protocol):
    """The part of ``redis.asyncio.Redis`` (decoding responses) the API uses."""

    def pipeline(self, transaction: bool = ...) -> StorePipeline: ...
    def ping(self) -> Awaitable[Any]: ...


class Metrics:
    """The Prometheus metrics of one app, in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sportsfeat_api_requests", "Requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "sportsfeat_api_request_seconds",
            "Request latency",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.expired = Counter(
            "sportsfeat_api_expired_reads",
            "Values served marked expired",
            ["group", "version"],
            registry=self.registry,
        )


class MetricsMiddleware:
    """Counts requests by route template and status, and times them by route."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path_format", "unmatched")
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)


def _time(stored: dict[str, str], field: str) -> datetime:
    return datetime.fromtimestamp(int(stored[field]) / 1000, UTC)  # exact to the millisecond


def entity_features(
    group: FeatureGroup, entity_id: str, stored: dict[str, str], now_ms: int
) -> EntityFeatures:
    """What the API answers for one entity, given its stored hash (empty = missing)."""
    if not stored:
        return EntityFeatures(
            group=group.name, version=group.version, entity_id=entity_id, status="missing",
            features=None, event_time=None, window_start=None, written_at=None, age_ms=None,
        )  # fmt: skip
    age_ms = now_ms - int(stored[EVENT_TIME])
    expired = age_ms > group.ttl.total_seconds() * 1000
    return EntityFeatures(
        group=group.name,
        version=group.version,
        entity_id=entity_id,
        status="expired" if expired else "fresh",
        features=group.decode(stored),
        event_time=_time(stored, EVENT_TIME),
        window_start=_time(stored, WINDOW_START),
        written_at=_time(stored, WRITTEN_AT),
        age_ms=age_ms,
    )


def _group(name: str, version: int) -> FeatureGroup:
    group = feature_group(name, version)
    if group is None:
        known = ", ".join(f"{g.name} v{g.version}" for g in FEATURE_GROUPS)
        raise HTTPException(404, f"unknown feature group {name} v{version}; known: {known}")
    return group


def _check_entity_id(entity_id: str) -> None:
    if not ENTITY_ID.fullmatch(entity_id):
        raise HTTPException(400, f"malformed entity id {entity_id!r}: use {ENTITY_RULE}")


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 401, 404, 503)
}


def create_app(settings: Settings, redis_client: Store | None = None) -> FastAPI:
    """The API over `redis_client`, or over a pooled client of the stack's Redis."""
    keys = api_keys(settings)
    owned = None
    if redis_client is None:
        owned = redis.asyncio.Redis.from_url(
            settings.redis_url,
            decode_responses=True,
            socket_timeout=1,
            socket_connect_timeout=1,
            retry=Retry(NoBackoff(), 1),  # once, on a fresh connection: survives a Redis restart
            retry_on_error=[redis.ConnectionError],
        )
        store: Store = owned
    else:
        store = redis_client
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned is not None:
            await owned.connection_pool.disconnect()

    app = FastAPI(title="sportsfeat feature serving", version="1", lifespan=lifespan)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    authorized = [Depends(require_key(keys))]

    async def fetch(group: FeatureGroup, entity_ids: Sequence[str]) -> list[EntityFeatures]:
        pipe = store.pipeline(transaction=False)
        for entity_id in entity_ids:
            pipe.hgetall(group.ref.key(entity_id))
        try:
            stored = await pipe.execute()
        except redis.RedisError as exc:
            raise HTTPException(
                503, f"online store Redis at {settings.redis_url} does not answer: {exc}"
            ) from exc
        now_ms = time.time_ns() // 1_000_000
        pairs = zip(entity_ids, stored, strict=True)
        results = [entity_features(group, entity_id, value, now_ms) for entity_id, value in pairs]
        expired = sum(r.status == "expired" for r in results)
        if expired:
            metrics.expired.labels(group.name, str(group.version)).inc(expired)
        return results

    @app.get(
        "/features/{group}/v{version}/{entity_id:path}",  # so that "" and "a/b" get a 400
        dependencies=authorized,
        responses=ERRORS,
        operation_id="get_features",
    )
    async def get_features(group: str, version: int, entity_id: str) -> EntityFeatures:
        """The entity's latest value of the feature group."""
        served = _group(group, version)
        _check_entity_id(entity_id)
        return (await fetch(served, [entity_id]))[0]

    @app.post(
        "/features/{group}/v{version}/batch",
        dependencies=authorized,
        responses=ERRORS,
        operation_id="get_features_batch",
    )
    async def get_batch(group: str, version: int, request: BatchRequest) -> BatchResponse:
        """Many entities' values in one Redis round trip, in request order."""
        served = _group(group, version)
        ids = request.entity_ids
        if not 1 <= len(ids) <= MAX_BATCH:
            raise HTTPException(400, f"{len(ids)} entity ids: send 1 to {MAX_BATCH} per batch")
        for entity_id in ids:
            _check_entity_id(entity_id)
        results = await fetch(served, ids)
        return BatchResponse(group=served.name, version=served.version, results=results)

    @app.get("/healthz")
    async def healthz() -> Health:
        """The process is up."""
        return Health(status="ok")

    @app.get("/readyz", responses={503: {"model": Problem}})
    async def readyz() -> Health:
        """Redis answers PING."""
        try:
            await store.ping()
        except redis.RedisError as exc:
            raise HTTPException(503, f"Redis at {settings.redis_url}: {exc}") from exc
        return Health(status="ready")

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def write_openapi(path: Path) -> None:
    """Write the API's OpenAPI document (of default settings) to `path`."""
    schema = create_app(Settings()).openapi()
    path.write_text(json.dumps(schema, indent=2) + "\n")
