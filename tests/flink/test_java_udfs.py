"""The Java UDFs called from SQL in a local Flink (batch and streaming), with exact results.

Needs the built jar (`sportsfeat setup`); DECODE_AVRO reads writer schemas from a stub
Confluent-API registry on 127.0.0.1.
"""

from __future__ import annotations

import io
import json
import struct
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import fastavro
import pytest
from pyflink.common import RowKind
from pyflink.table import TableEnvironment

from tests.flink.conftest import table_env

pytestmark = pytest.mark.flink

# (key, item, amount, seconds): u1 has a tie at 3 s, u2 a tie at 3 s and a NULL amount,
# u3 only NULLs (every aggregate of an empty input is NULL; EXACT_DISTINCT is 0).
ROWS = """
    ('u1', 'a', 1.0, 1), ('u1', 'b', 2.0, 2), ('u1', 'a', 3.0, 3), ('u1', 'c', 0.5, 3),
    ('u1', CAST(NULL AS STRING), 5.0, 4),
    ('u2', 'c', 4.0, 3), ('u2', 'd', CAST(NULL AS DOUBLE), 3),
    ('u3', CAST(NULL AS STRING), CAST(NULL AS DOUBLE), 1)
"""
AGGREGATES = f"""
    SELECT k,
        APPROX_DISTINCT(s, 12), EXACT_DISTINCT(s), APPROX_PERCENTILES(d, '0.5,0.9', 200),
        TOP_K(s, 2), LAST_N_DISTINCT(s, ts, 2), LATEST(s, ts), EARLIEST(s, ts),
        DECAY_SUM(d, ts, 1000)
    FROM (
        SELECT k, CAST(s AS STRING) AS s, CAST(d AS DOUBLE) AS d,
            CAST(TIMESTAMPADD(SECOND, sec, TIMESTAMP '2024-05-01 00:00:00') AS TIMESTAMP(3)) AS ts
        FROM (VALUES {ROWS}) AS v(k, s, d, sec)
    )
    WHERE METER_RECORD('read', 'test', k)
    GROUP BY k
"""
EXPECTED = {
    # DECAY_SUM u1 at t_max = 4 s: 5 + 3/2 + 0.5/2 + 2/4 + 1/8
    "u1": [3, 3, [2.0, 5.0], ["a", "b"], ["a", "c"], "c", "a", 7.375],
    "u2": [2, 2, [4.0, 4.0], ["c", "d"], ["c", "d"], "d", "c", 4.0],
    "u3": [None, 0, None, None, None, None, None, None],
}

READER = {
    "type": "record",
    "name": "Click",
    "namespace": "test",
    "fields": [
        {"name": "user_id", "type": "string"},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "teams", "type": {"type": "array", "items": "string"}},
        {"name": "game", "type": ["null", "string"], "default": None},
    ],
}
SCHEMA_ID = 7


class _Registry(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        answers = {
            f"/ccompat/schemas/ids/{SCHEMA_ID}": {"schema": json.dumps(READER)},
            "/ccompat/schemas/types": ["AVRO"],  # checked before an id counts as unknown
        }
        found = self.path in answers
        body = json.dumps(answers[self.path] if found else {"error_code": 40403})
        self.send_response(200 if found else 404)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def registry_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ccompat"
    server.shutdown()


def final_rows(t_env: TableEnvironment, sql: str) -> dict[str, list[Any]]:
    """Each key's final row: in streaming mode the last of its updates."""
    rows: dict[str, list[Any]] = {}
    with t_env.execute_sql(sql).collect() as results:
        for row in results:
            if row.get_row_kind() in (RowKind.INSERT, RowKind.UPDATE_AFTER):
                rows[row[0]] = list(row[1:])
    return rows


@pytest.mark.parametrize("streaming", [False, True], ids=["batch", "streaming"])
def test_every_aggregate_gives_exact_results(streaming: bool) -> None:
    assert final_rows(table_env(streaming), AGGREGATES) == EXPECTED


def test_a_bad_literal_fails_the_statement_at_planning() -> None:
    t_env = table_env(False)
    with pytest.raises(Exception, match="argument lg_k must be an INT from 4 to 21"):
        t_env.sql_query("SELECT APPROX_DISTINCT(s, 30) FROM (VALUES ('a')) AS v(s)")


def _wire(record: dict[str, Any], schema_id: int = SCHEMA_ID) -> str:
    """The record in Confluent wire format, as a SQL binary literal."""
    out = io.BytesIO()
    out.write(struct.pack(">bI", 0, schema_id))
    fastavro.schemaless_writer(out, fastavro.parse_schema(READER), record)
    return f"X'{out.getvalue().hex()}'"


def test_decode_avro_reads_the_reader_schemas_row(registry_url: str) -> None:
    t_env = table_env(False)
    record = {"user_id": "u1", "ts": 1_714_521_600_250, "teams": ["t1"], "game": "g9"}
    ok, unknown = _wire(record), _wire(record, 99)
    values = f"(1, {ok}), (2, X'7b7d'), (3, CAST(NULL AS BYTES)), (4, {ok}), (5, {unknown})"
    sql = f"""
        SELECT n, d.`_error`, d.`_schema_id`, d.user_id, d.ts, d.teams, d.game
        FROM (SELECT n, DECODE_AVRO(v, '{json.dumps(READER)}', '{registry_url}') AS d
              FROM (VALUES {values}) AS t(n, v))
    """
    with t_env.execute_sql(sql).collect() as results:
        rows = sorted(tuple(row) for row in results)
    ts = datetime(2024, 5, 1, 0, 0, 0, 250_000, tzinfo=UTC).replace(tzinfo=None)  # TIMESTAMP(3)
    decoded = (None, SCHEMA_ID, "u1", ts, ["t1"], "g9")
    assert rows == [
        (1, *decoded),
        (2, "wrong_magic_byte", None, None, None, None, None),
        (3, "null_value", None, None, None, None, None),
        (4, *decoded),
        (5, "unknown_schema_id", 99, None, None, None, None),
    ]


# (key, item, seconds) in time order (none late): two 10 s windows, u2's first only a NULL.
WINDOW_ROWS = [
    ("u1", "a", 1), ("u1", "b", 2), ("u1", "a", 3), ("u1", None, 4), ("u2", None, 5),
    ("u1", "c", 11), ("u1", "c", 12), ("u2", "d", 15), ("u2", "d", 16), ("u2", "e", 17),
]  # fmt: skip
WINDOW_SQL = """
    SELECT k, window_start, EXACT_DISTINCT(s) AS n, TOP_K(s, 2)
    FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' SECOND))
    GROUP BY k, window_start, window_end
"""


@pytest.mark.parametrize("streaming", [False, True], ids=["batch", "streaming"])
def test_exact_distinct_and_top_k_share_a_window_aggregation(
    streaming: bool, tmp_path: Path
) -> None:
    """Batch cannot plan COUNT(DISTINCT s) beside a Java UDAF; EXACT_DISTINCT stands in."""
    lines = (
        json.dumps({"k": k, "s": s, "ts": f"2024-05-01 00:00:{sec:02d}.000"})
        for k, s, sec in WINDOW_ROWS
    )
    (tmp_path / "clicks.json").write_text("\n".join(lines) + "\n")
    t_env = table_env(streaming)
    t_env.execute_sql(f"""
        CREATE TEMPORARY TABLE clicks (k STRING, s STRING, ts TIMESTAMP(3),
            WATERMARK FOR ts AS ts)
        WITH ('connector' = 'filesystem', 'path' = '{tmp_path}', 'format' = 'json')
    """)
    assert "`n` BIGINT NOT NULL" in str(t_env.sql_query(WINDOW_SQL).get_resolved_schema())
    with t_env.execute_sql(WINDOW_SQL).collect() as results:
        rows = sorted(tuple(row) for row in results)
    start = datetime(2024, 5, 1, tzinfo=UTC).replace(tzinfo=None)  # TIMESTAMP(3)
    later = start + timedelta(seconds=10)
    assert rows == [
        ("u1", start, 2, ["a", "b"]),
        ("u1", later, 1, ["c"]),
        ("u2", start, 0, None),
        ("u2", later, 2, ["d", "e"]),
    ]
