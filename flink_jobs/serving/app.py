"""The feature-serving HTTP API: online features of the catalogued groups, read from Redis.

Every request costs one pipelined Redis round trip on a pooled connection. A value older
than its group's TTL (by event time) is returned marked ``expired``, never as ``fresh``.
Engine-v2 groups (version 2) are served from their tiles, merged on read at the request
time (`flink_jobs.serving.tiled`).

The feature routes answer with JSON built straight from the stored hashes (orjson, no
pydantic on the way out); their models below document the same JSON in the OpenAPI.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from itertools import filterfalse
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import orjson
import redis
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flink_jobs.feature_groups import FEATURE_GROUPS, FeatureGroup, FeatureValue
from flink_jobs.features.model import span
from flink_jobs.metrics import API_EXPIRED_READS, API_LATENCY, API_REQUESTS
from flink_jobs.online_store import EVENT_TIME, WINDOW_START, WRITTEN_AT
from flink_jobs.serving.auth import api_keys, require_key
from flink_jobs.serving.store import Read, RedisStore, Store
from flink_jobs.serving.tiled import READ_AHEAD, TiledGroup
from flink_jobs.serving.times import AT_FORMS, iso
from flink_jobs.settings import Settings
from flink_jobs.tiles.compile import TILED_CATALOGUE
from flink_jobs.tiles.online import READ_BACK

MAX_BATCH = 500
ENTITY_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
ENTITY_RULE = "1 to 128 characters from A-Z a-z 0-9 _ . : -"


class Problem(BaseModel):
    detail: str


class EntityFeatures(BaseModel):
    """One entity's value of a feature group, or its absence. Version 1: the latest window,
    expired when its event time is more than the group's TTL before now. Version 2: the
    tiles the request time selects, merged; expired when the request time is more than the
    TTL after the pipeline's progress (the watermark the writer last applied)."""

    group: str
    version: int
    entity_id: str
    status: Literal["fresh", "expired", "missing"]
    features: dict[str, FeatureValue | None] | None
    event_time: datetime | None = Field(
        description="Event time the values are valid for (UTC); v2: the request time"
    )
    window_start: datetime | None = Field(description="v2: the oldest selected tile's start")
    written_at: datetime | None
    age_ms: int | None = Field(
        description="Now minus event time; v2: now minus the progress (null before any)"
    )


class BatchRequest(BaseModel):
    entity_ids: list[str] = Field(description=f"1 to {MAX_BATCH} entity ids")


class BatchResponse(BaseModel):
    group: str
    version: int
    results: list[EntityFeatures] = Field(description="In request order")


class Health(BaseModel):
    status: str


class Metrics:
    """The Prometheus metrics of one app, in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = API_REQUESTS.counter(self.registry)
        self.latency = API_LATENCY.histogram(self.registry)
        self.expired = API_EXPIRED_READS.counter(self.registry)


class MetricsMiddleware:
    """Counts requests by route template and status, and times them by route."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._series: dict[tuple[str, int], tuple[Counter, Histogram]] = {}

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
            series = self._series.get((route, status))
            if series is None:
                series = (
                    self.metrics.requests.labels(route, str(status)),
                    self.metrics.latency.labels(route),
                )
                self._series[route, status] = series
            series[0].inc()
            series[1].observe(time.perf_counter() - started)


class ServedGroup:
    """A feature group's answers, built as JSON-ready dicts straight from its stored fields."""

    def __init__(self, group: FeatureGroup, expired: Counter) -> None:
        self.name = group.name
        self.version = group.version
        self.key_prefix = group.ref.key("")
        self.fields = (*group.features, EVENT_TIME, WINDOW_START, WRITTEN_AT)
        self._features = tuple((name, group.types[name]) for name in group.features)
        self._ttl_ms = group.ttl.total_seconds() * 1000
        self._expired = expired.labels(group.name, str(group.version))
        self._missing = EntityFeatures(
            group=group.name, version=group.version, entity_id="", status="missing",
            features=None, event_time=None, window_start=None, written_at=None, age_ms=None,
        ).model_dump()  # fmt: skip

    def entity(self, entity_id: str, stored: Sequence[str | None], now_ms: int) -> dict[str, Any]:
        """What the API answers for one entity, given its stored `fields` (None: not stored)."""
        *features, event_time, window_start, written_at = stored
        if event_time is None:
            return {**self._missing, "entity_id": entity_id}
        if window_start is None or written_at is None:
            raise ValueError(f"{self.key_prefix}{entity_id} lacks {WINDOW_START} or {WRITTEN_AT}")
        age_ms = now_ms - int(event_time)
        return {
            "group": self.name,
            "version": self.version,
            "entity_id": entity_id,
            "status": "expired" if age_ms > self._ttl_ms else "fresh",
            "features": {
                name: None if value is None else kind(value)
                for (name, kind), value in zip(self._features, features, strict=True)
            },
            "event_time": iso(event_time),
            "window_start": iso(window_start),
            "written_at": iso(written_at),
            "age_ms": age_ms,
        }

    def entities(
        self, entity_ids: Sequence[str], stored: Sequence[Sequence[str | None]], now_ms: int
    ) -> list[dict[str, Any]]:
        """The answers in request order; expired ones are counted."""
        pairs = zip(entity_ids, stored, strict=True)
        results = [self.entity(entity_id, values, now_ms) for entity_id, values in pairs]
        expired = sum(result["status"] == "expired" for result in results)
        if expired:
            self._expired.inc(expired)
        return results

    def request_time(self, at: str | None, now_ms: int) -> int:
        if at is not None:
            raise ValueError("v1 groups serve their latest window; at= is for v2 groups")
        return now_ms

    def reads(self, entity_ids: Sequence[str], t: int) -> list[Read]:
        return [([self.key_prefix + entity_id for entity_id in entity_ids], self.fields)]

    def answers(
        self,
        entity_ids: Sequence[str],
        replies: Sequence[Sequence[Sequence[str | None]]],
        t: int,
        now_ms: int,
    ) -> list[dict[str, Any]]:
        return self.entities(entity_ids, replies[0], now_ms)


class Served(Protocol):
    """A served group version: v1's `ServedGroup` or v2's `TiledGroup`."""

    name: str
    version: int

    def request_time(self, at: str | None, now_ms: int) -> int:
        """The request time t of a read `at` (None: now); ValueError if it cannot be served."""
        ...

    def reads(self, entity_ids: Sequence[str], t: int) -> list[Read]:
        """What a read of the entities at t fetches, in one round trip."""
        ...

    def answers(
        self,
        entity_ids: Sequence[str],
        replies: Sequence[Sequence[Sequence[str | None]]],
        t: int,
        now_ms: int,
    ) -> list[dict[str, Any]]:
        """The answers to the replies to `reads`, in request order; expired ones counted."""
        ...


def _json(content: object) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


def _check_entity_ids(entity_ids: Sequence[str]) -> None:
    malformed = next(filterfalse(ENTITY_ID.fullmatch, entity_ids), None)
    if malformed is not None:
        raise HTTPException(400, f"malformed entity id {malformed!r}: use {ENTITY_RULE}")


At = Annotated[
    str | None,
    Query(
        description=f"v2 groups only: the request time t, {AT_FORMS}; default now. From "
        f"{span(READ_BACK)} before now to {span(READ_AHEAD)} after (older times: the offline "
        "store, backfill)",
    ),
]

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 401, 404, 503)
}


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """The API over `store`, or over a pooled client of the stack's Redis."""
    keys = api_keys(settings)
    owned = None
    if store is None:
        host, port = settings.redis_endpoint
        store = owned = RedisStore(host, port, password=settings.redis_password)
    metrics = Metrics()
    served: dict[tuple[str, int], Served] = {
        (g.name, g.version): ServedGroup(g, metrics.expired) for g in FEATURE_GROUPS
    }
    served |= {(g.name, g.version): TiledGroup(g, metrics.expired) for g in TILED_CATALOGUE}
    known = ", ".join(f"{name} v{version}" for name, version in served)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned is not None:
            owned.close()

    app = FastAPI(title="sportsfeat feature serving", version="1", lifespan=lifespan)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    authorized = [Depends(require_key(keys))]

    def group_of(name: str, version: int) -> Served:
        group = served.get((name, version))
        if group is None:
            raise HTTPException(404, f"unknown feature group {name} v{version}; known: {known}")
        return group

    async def fetch(
        group: Served, entity_ids: Sequence[str], at: str | None
    ) -> list[dict[str, Any]]:
        now_ms = time.time_ns() // 1_000_000
        try:
            t = group.request_time(at, now_ms)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        try:
            replies = await store.hmget_each(group.reads(entity_ids, t))
        except redis.RedisError as exc:
            raise HTTPException(
                503, f"online store Redis at {settings.redis_url} does not answer: {exc}"
            ) from exc
        return group.answers(entity_ids, replies, t, now_ms)

    @app.get(
        "/features/{group}/v{version}/{entity_id:path}",  # so that "" and "a/b" get a 400
        dependencies=authorized,
        responses=ERRORS,
        response_model=EntityFeatures,
        operation_id="get_features",
    )
    async def get_features(group: str, version: int, entity_id: str, at: At = None) -> Response:
        """The entity's value of the feature group: v1 its latest window, v2 its tiles
        merged at the request time `at` (default now)."""
        served_group = group_of(group, version)
        _check_entity_ids((entity_id,))
        return _json((await fetch(served_group, (entity_id,), at))[0])

    @app.post(
        "/features/{group}/v{version}/batch",
        dependencies=authorized,
        responses=ERRORS,
        response_model=BatchResponse,
        operation_id="get_features_batch",
    )
    async def get_batch(group: str, version: int, request: BatchRequest, at: At = None) -> Response:
        """Many entities' values in one Redis round trip, in request order (v2: all at the
        request time `at`, default now)."""
        served_group = group_of(group, version)
        ids = request.entity_ids
        if not 1 <= len(ids) <= MAX_BATCH:
            raise HTTPException(400, f"{len(ids)} entity ids: send 1 to {MAX_BATCH} per batch")
        _check_entity_ids(ids)
        results = await fetch(served_group, ids, at)
        return _json(
            {"group": served_group.name, "version": served_group.version, "results": results}
        )

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
