"""The feature-serving API and its client, over in-memory stand-ins for Redis."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hiredis
import httpx
import orjson
import pytest
import redis
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from flink_jobs.errors import UserError
from flink_jobs.feature_groups import FEATURE_GROUPS, FeatureGroup, feature_group
from flink_jobs.metrics import METRICS
from flink_jobs.online_store import EVENT_TIME, WINDOW_END, WINDOW_START, WRITTEN_AT
from flink_jobs.serving.app import (
    BatchResponse,
    EntityFeatures,
    Metrics,
    ServedGroup,
    create_app,
    write_openapi,
)
from flink_jobs.serving.client import FeatureApiError, FeatureClient
from flink_jobs.serving.store import Read, RedisStore
from flink_jobs.settings import PROJECT_ROOT, Settings
from flink_jobs.tiles.compile import TILED_CATALOGUE

KEY = "test-key"
URL = "/features/user_activity/v1"
DAY_MS = 24 * 3600 * 1000


class FakeRedis:
    """The online store in memory: hashes by key, read as the API's `Store`."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, str]] = {}
        self.round_trips = 0
        self.down = False

    async def hmget(self, keys: Sequence[str], fields: Sequence[str]) -> list[list[str | None]]:
        (replies,) = await self.hmget_each([(keys, fields)])
        return replies

    async def hmget_each(self, reads: Sequence[Read]) -> list[list[list[str | None]]]:
        self.round_trips += 1
        if self.down:
            raise redis.ConnectionError("Error 111 connecting: Connection refused.")
        return [
            [[self.stored.get(key, {}).get(field) for field in fields] for key in keys]
            for keys, fields in reads
        ]

    async def ping(self) -> None:
        if self.down:
            raise redis.ConnectionError("Error 111 connecting: Connection refused.")

    def put(self, entity_id: str, event_time_ms: int, count: int, watch_ms: int) -> None:
        """Store a value the way the online-store writer does."""
        self.stored[f"feat:user_activity:v1:{entity_id}"] = {
            "user_id": entity_id,
            "user_interactions_count_1m": str(count),
            "user_watch_ms_sum_1m": str(watch_ms),
            EVENT_TIME: str(event_time_ms),
            WINDOW_START: str(event_time_ms - 60_000),
            WINDOW_END: str(event_time_ms),
            WRITTEN_AT: str(event_time_ms + 12_000),
        }


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def fake() -> FakeRedis:
    return FakeRedis()


@pytest.fixture
def api(fake: FakeRedis) -> Iterator[TestClient]:
    app = create_app(Settings(api_keys=f"other,{KEY}"), fake)
    with TestClient(app, headers={"X-API-Key": KEY}) as client:
        yield client


def test_the_catalogue_takes_features_and_types_from_the_schema() -> None:
    group = feature_group("user_activity", 1)
    assert group is not None
    assert (group.entity, group.ttl) == ("user_id", timedelta(hours=24))
    assert group.features == ("user_interactions_count_1m", "user_watch_ms_sum_1m")
    assert dict(group.types) == {"user_interactions_count_1m": int, "user_watch_ms_sum_1m": int}
    assert group.ref.key("u1") == "feat:user_activity:v1:u1"
    assert feature_group("user_activity", 2) is None


def test_a_fresh_value_with_ints_and_utc_times(api: TestClient, fake: FakeRedis) -> None:
    event_time = now_ms() - 30_000
    fake.put("u1", event_time, count=3, watch_ms=1500)
    response = api.get(f"{URL}/u1")
    assert response.status_code == 200
    body = response.json()
    age_ms = body.pop("age_ms")
    assert 30_000 <= age_ms < 40_000
    assert body == {
        "group": "user_activity",
        "version": 1,
        "entity_id": "u1",
        "status": "fresh",
        "features": {"user_interactions_count_1m": 3, "user_watch_ms_sum_1m": 1500},
        "event_time": iso(event_time),
        "window_start": iso(event_time - 60_000),
        "written_at": iso(event_time + 12_000),
    }


def test_a_value_older_than_the_ttl_is_served_expired_never_fresh(
    api: TestClient, fake: FakeRedis
) -> None:
    fake.put("u1", now_ms() - DAY_MS - 60_000, count=3, watch_ms=1500)
    body = api.get(f"{URL}/u1").json()
    assert body["status"] == "expired"
    assert body["features"] == {"user_interactions_count_1m": 3, "user_watch_ms_sum_1m": 1500}
    assert body["age_ms"] > DAY_MS
    metrics = api.get("/metrics").text
    assert 'sportsfeat_api_expired_reads_total{group="user_activity",version="1"} 1.0' in metrics


def test_an_unknown_entity_is_missing(api: TestClient) -> None:
    response = api.get(f"{URL}/nobody")
    assert response.status_code == 200
    assert response.json() == {
        "group": "user_activity",
        "version": 1,
        "entity_id": "nobody",
        "status": "missing",
        "features": None,
        "event_time": None,
        "window_start": None,
        "written_at": None,
        "age_ms": None,
    }


def test_a_batch_answers_in_request_order_in_one_round_trip(
    api: TestClient, fake: FakeRedis
) -> None:
    fake.put("u1", now_ms() - 1000, count=1, watch_ms=10)
    fake.put("u2", now_ms() - DAY_MS - 1000, count=2, watch_ms=20)
    response = api.post(f"{URL}/batch", json={"entity_ids": ["u2", "nobody", "u1", "u2"]})
    assert response.status_code == 200
    body = response.json()
    assert (body["group"], body["version"]) == ("user_activity", 1)
    results = [(r["entity_id"], r["status"]) for r in body["results"]]
    assert results == [("u2", "expired"), ("nobody", "missing"), ("u1", "fresh"), ("u2", "expired")]
    assert fake.round_trips == 1


def as_model(
    group: FeatureGroup, entity_id: str, stored: dict[str, str], now: int
) -> EntityFeatures:
    """The answer for a stored hash as the pydantic models give it: the lean JSON's reference."""
    if not stored:
        return EntityFeatures(
            group=group.name, version=group.version, entity_id=entity_id, status="missing",
            features=None, event_time=None, window_start=None, written_at=None, age_ms=None,
        )  # fmt: skip
    age_ms = now - int(stored[EVENT_TIME])

    def at(field: str) -> datetime:
        return datetime.fromtimestamp(int(stored[field]) / 1000, UTC)

    return EntityFeatures(
        group=group.name,
        version=group.version,
        entity_id=entity_id,
        status="expired" if age_ms > group.ttl.total_seconds() * 1000 else "fresh",
        features=group.decode(stored),
        event_time=at(EVENT_TIME),
        window_start=at(WINDOW_START),
        written_at=at(WRITTEN_AT),
        age_ms=age_ms,
    )


def test_the_lean_json_is_what_the_models_serialize(
    api: TestClient, fake: FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = now_ms()
    monkeypatch.setattr(time, "time_ns", lambda: now * 1_000_000)
    fake.put("fresh", now - 30_123, count=3, watch_ms=1500)
    fake.put("whole", now // 60_000 * 60_000, count=0, watch_ms=2**40)  # times without ms
    fake.put("expired", now - DAY_MS - 1, count=7, watch_ms=7000)
    fake.put("at_ttl", now - DAY_MS, count=1, watch_ms=1)  # as old as the TTL: still fresh
    group = feature_group("user_activity", 1)
    assert group is not None
    ids = ["fresh", "whole", "expired", "at_ttl", "missing", "fresh"]
    models = {i: as_model(group, i, fake.stored.get(group.ref.key(i), {}), now) for i in ids}
    for entity_id, model in models.items():
        assert api.get(f"{URL}/{entity_id}").content == model.model_dump_json().encode()
    batch = BatchResponse(group=group.name, version=1, results=[models[i] for i in ids])
    response = api.post(f"{URL}/batch", json={"entity_ids": ids})
    assert response.content == batch.model_dump_json().encode()


@pytest.mark.parametrize("real", ["0.1", "2.0", "-0.0", "1e-7", "1e+20", "nan", "inf"])
def test_the_lean_json_of_every_feature_type_is_what_the_models_serialize(real: str) -> None:
    group = FeatureGroup(
        name="mixed", version=2, entity="id", ttl=timedelta(minutes=5), doc="",
        features=("n", "x", "s", "absent"), types={"n": int, "x": float, "s": str, "absent": int},
    )  # fmt: skip
    served = ServedGroup(group, Metrics().expired)
    now = now_ms()
    stored = {
        "n": "-12", "x": real, "s": 'é "q"\n\x01',
        EVENT_TIME: str(now - 1), WINDOW_START: str(now - 60_001), WRITTEN_AT: str(now),
    }  # fmt: skip
    lean = served.entity("e1", [stored.get(field) for field in served.fields], now)
    assert orjson.dumps(lean) == as_model(group, "e1", stored, now).model_dump_json().encode()


@pytest.mark.parametrize(
    ("entity_ids", "message"),
    [
        ([], "0 entity ids: send 1 to 500 per batch"),
        ([f"u{i}" for i in range(501)], "501 entity ids: send 1 to 500 per batch"),
        (["u1", "bad id"], "malformed entity id 'bad id'"),
    ],
)
def test_a_bad_batch_is_rejected(api: TestClient, entity_ids: list[str], message: str) -> None:
    response = api.post(f"{URL}/batch", json={"entity_ids": entity_ids})
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_an_unknown_group_or_version_names_the_known_ones(api: TestClient) -> None:
    for path in ("/features/user_activty/v1/u1", "/features/user_activity/v3/u1"):
        response = api.get(path)
        assert response.status_code == 404
    known = [(g.name, g.version) for g in FEATURE_GROUPS]
    known += [(g.name, g.version) for g in TILED_CATALOGUE]
    assert api.get("/features/user_activty/v1/u1").json() == {
        "detail": "unknown feature group user_activty v1; known: "
        + ", ".join(f"{name} v{version}" for name, version in known)
    }
    assert api.post("/features/nope/v1/batch", json={"entity_ids": ["u1"]}).status_code == 404


@pytest.mark.parametrize("entity_id", ["", "x" * 129, "u%201", "u%2A", "%C3%A9", "a/b"])
def test_a_malformed_entity_id_is_rejected_with_the_rule(api: TestClient, entity_id: str) -> None:
    response = api.get(f"{URL}/{entity_id}")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("malformed entity id ")
    assert "1 to 128 characters from A-Z a-z 0-9 _ . : -" in detail


def test_entity_ids_may_use_the_allowed_punctuation(api: TestClient) -> None:
    assert api.get(f"{URL}/{'a' * 128}").status_code == 200
    assert api.get(f"{URL}/team:1.user_2-x").json()["status"] == "missing"


@pytest.mark.parametrize(("key", "message"), [(None, "missing X-API-Key"), ("nope", "invalid")])
def test_feature_routes_need_a_valid_key(api: TestClient, key: str | None, message: str) -> None:
    del api.headers["X-API-Key"]
    headers = {"X-API-Key": key} if key else {}
    for response in (
        api.get(f"{URL}/u1", headers=headers),
        api.post(f"{URL}/batch", json={"entity_ids": ["u1"]}, headers=headers),
    ):
        assert response.status_code == 401
        assert message in response.json()["detail"]
    assert api.get(f"{URL}/u1", headers={"X-API-Key": "other"}).status_code == 200


def test_health_and_readiness_need_no_key(api: TestClient, fake: FakeRedis) -> None:
    del api.headers["X-API-Key"]
    assert api.get("/healthz").json() == {"status": "ok"}
    assert api.get("/readyz").json() == {"status": "ready"}
    fake.down = True
    assert api.get("/healthz").status_code == 200
    assert api.get("/readyz").status_code == 503


def test_without_keys_auth_is_off(fake: FakeRedis) -> None:
    with TestClient(create_app(Settings(), fake)) as client:
        assert client.get(f"{URL}/u1").status_code == 200


def test_prod_refuses_to_start_without_keys() -> None:
    with pytest.raises(UserError, match="refuses to run in prod without API keys"):
        create_app(Settings(environment="prod", api_keys=" , "), FakeRedis())
    with pytest.raises(UserError, match="use dev or prod"):
        create_app(Settings(environment="staging"), FakeRedis())
    create_app(Settings(environment="prod", api_keys=KEY), FakeRedis())


def test_redis_down_is_503_with_a_message(api: TestClient, fake: FakeRedis) -> None:
    fake.down = True
    for response in (
        api.get(f"{URL}/u1"),
        api.post(f"{URL}/batch", json={"entity_ids": ["u1"]}),
    ):
        assert response.status_code == 503
        assert "Redis at redis://127.0.0.1:6379/0 does not answer" in response.json()["detail"]


def test_with_the_real_client_and_nothing_listening_it_is_503() -> None:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with TestClient(create_app(Settings(redis_port=port))) as client:
        assert client.get(f"{URL}/u1").status_code == 503
        assert client.get("/readyz").status_code == 503


def test_metrics_count_requests_by_route_and_status(api: TestClient) -> None:
    api.get(f"{URL}/u1")
    api.get("/features/nope/v1/u1")
    metrics = api.get("/metrics").text
    route = 'route="/features/{group}/v{version}/{entity_id}"'
    assert f'sportsfeat_api_requests_total{{{route},status="200"}} 1.0' in metrics
    assert f'sportsfeat_api_requests_total{{{route},status="404"}} 1.0' in metrics
    assert f"sportsfeat_api_request_seconds_count{{{route}}} 2.0" in metrics


def test_the_api_exports_exactly_its_catalogued_series(api: TestClient, fake: FakeRedis) -> None:
    fake.put("u1", now_ms() - DAY_MS - 60_000, count=3, watch_ms=1500)  # expired
    api.get(f"{URL}/u1")
    text = api.get("/metrics").text
    names = {s.name for family in text_string_to_metric_families(text) for s in family.samples}
    assert names == {series for m in METRICS if m.exporter == "api" for series in m.series}


def test_the_committed_openapi_document_is_current(tmp_path: Path) -> None:
    write_openapi(tmp_path / "openapi.json")
    committed = json.loads((PROJECT_ROOT / "docs" / "openapi.json").read_text())
    assert committed == json.loads((tmp_path / "openapi.json").read_text()), (
        "docs/openapi.json is stale: run `python -m flink_jobs.serving --write-openapi "
        "docs/openapi.json`"
    )
    paths = committed["paths"]
    assert set(paths) == {
        "/features/{group}/v{version}/{entity_id}",
        "/features/{group}/v{version}/batch",
        "/healthz",
        "/readyz",
    }


def _through(api: TestClient) -> httpx.MockTransport:
    """An httpx transport that hands each request to the in-process app."""

    def handle(request: httpx.Request) -> httpx.Response:
        response = api.request(
            request.method,
            request.url.raw_path.decode(),
            headers=dict(request.headers),
            content=request.content,
        )
        return httpx.Response(
            response.status_code, headers=response.headers.multi_items(), content=response.content
        )

    return httpx.MockTransport(handle)


def test_the_client_reads_single_values_and_batches(api: TestClient, fake: FakeRedis) -> None:
    del api.headers["X-API-Key"]
    fake.put("u1", now_ms() - 1000, count=4, watch_ms=40)
    with FeatureClient("http://api", api_key=KEY, transport=_through(api)) as client:
        assert client.get("user_activity", 1, "u1")["features"] == {
            "user_interactions_count_1m": 4,
            "user_watch_ms_sum_1m": 40,
        }
        batch = client.get_batch("user_activity", 1, ["nobody", "u1"])
        assert [r["status"] for r in batch] == ["missing", "fresh"]


def test_the_client_raises_the_servers_message(api: TestClient) -> None:
    del api.headers["X-API-Key"]
    with FeatureClient("http://api", api_key=KEY, transport=_through(api)) as client:
        with pytest.raises(FeatureApiError, match="404: unknown feature group nope v1") as error:
            client.get("nope", 1, "u1")
        assert error.value.status == 404
        with pytest.raises(FeatureApiError, match="400: malformed entity id 'a/b'"):
            client.get("user_activity", 1, "a/b")
        with pytest.raises(FeatureApiError, match="400: 0 entity ids"):
            client.get_batch("user_activity", 1, [])
        # `at` reaches the server
        with pytest.raises(FeatureApiError, match="400: v1 groups serve their latest window"):
            client.get_batch("user_activity", 1, ["u1"], at=1)
    wrong_key = FeatureClient("http://api", api_key="wrong", transport=_through(api))
    with wrong_key, pytest.raises(FeatureApiError, match="401: invalid API key"):
        wrong_key.get("user_activity", 1, "u1")


def test_the_client_says_when_nothing_answers() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    client = FeatureClient("http://api", transport=httpx.MockTransport(refuse))
    with (
        client,
        pytest.raises(FeatureApiError, match="feature API at http://api: Connection refused"),
    ):
        client.get("user_activity", 1, "u1")


class RespServer:
    """A stand-in for Redis on a local port, speaking RESP: PING, and HMGET of `hashes`."""

    def __init__(self, password: bytes = b"") -> None:
        self.hashes: dict[bytes, dict[bytes, bytes]] = {}
        self.connections: list[asyncio.StreamWriter] = []
        self.silent = False
        self.password = password  # when set, a connection must AUTH first

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append(writer)
        parser = hiredis.Reader()
        authenticated = not self.password
        while data := await reader.read(1 << 16):
            parser.feed(data)
            while (command := parser.gets()) is not False:
                if command[0] == b"AUTH":
                    authenticated = command[1] == self.password
                    writer.write(b"+OK\r\n" if authenticated else b"-WRONGPASS invalid\r\n")
                elif not authenticated:
                    writer.write(b"-NOAUTH Authentication required.\r\n")
                elif not self.silent:
                    writer.write(self.reply(*command))

    def reply(self, name: bytes, *args: bytes) -> bytes:
        if name == b"PING":
            return b"+PONG\r\n"
        key, *fields = args
        if key == b"not-a-hash":
            return b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        values = [self.hashes.get(key, {}).get(field) for field in fields]
        return b"*%d\r\n" % len(values) + b"".join(
            b"$-1\r\n" if v is None else b"$%d\r\n%b\r\n" % (len(v), v) for v in values
        )


@asynccontextmanager
async def resp_server(
    password: bytes = b"", client_password: str = ""
) -> AsyncIterator[tuple[RespServer, RedisStore]]:
    fake = RespServer(password)
    server = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = RedisStore("127.0.0.1", port, timeout=0.2, password=client_password)
    async with server:
        yield fake, store
    store.close()


def test_the_redis_store_reads_fields_in_order_on_one_connection() -> None:
    async def check() -> None:
        async with resp_server() as (fake, store):
            fake.hashes[b"k1"] = {b"a": b"1", b"b": "é".encode()}
            assert await store.hmget(["k1", "none", "k1"], ["b", "a", "c"]) == [
                ["é", "1", None],
                [None, None, None],
                ["é", "1", None],
            ]
            await store.ping()
            assert len(fake.connections) == 1

    asyncio.run(check())


def test_the_redis_store_survives_a_restart_error_replies_and_timeouts() -> None:
    async def check() -> None:
        async with resp_server() as (fake, store):
            await store.ping()
            fake.connections[0].close()  # as a restart does
            await store.ping()  # retried once, on a new connection
            assert len(fake.connections) == 2
            with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
                await store.hmget(["k1", "not-a-hash", "k2"], ["a"])
            await store.ping()  # every reply was read: the connection is still in order
            fake.silent = True
            with pytest.raises(redis.TimeoutError, match=r"no answer within 0\.2 s"):
                await store.ping()
            fake.silent = False
            await store.ping()  # on a new connection: the timed-out one is closed
            assert len(fake.connections) == 3

    asyncio.run(check())


def test_the_redis_store_authenticates_every_new_connection() -> None:
    async def check() -> None:
        async with resp_server(b"s3cret", "s3cret") as (fake, store):
            fake.hashes[b"k"] = {b"a": b"1"}
            assert await store.hmget(["k"], ["a"]) == [["1"]]
            fake.connections[0].close()
            await store.ping()  # a new connection, authenticated again
            assert len(fake.connections) == 2
        async with resp_server(b"s3cret", "wrong") as (fake, store):
            with pytest.raises(redis.AuthenticationError, match="WRONGPASS"):
                await store.ping()
        async with resp_server(b"s3cret") as (fake, store):
            with pytest.raises(redis.ResponseError, match="NOAUTH"):
                await store.ping()

    asyncio.run(check())
