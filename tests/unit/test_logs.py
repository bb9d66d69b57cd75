"""Structured logs: JSON lines or text, context fields, and no secret ever printed."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from flink_jobs.logs import Redactor, configure


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_lines_carry_time_level_logger_message_and_context() -> None:
    out = io.StringIO()
    configure("auto", stream=out)  # not a terminal: JSON
    logging.getLogger("sportsfeat.writer").warning(
        "value %s rejected", "x", extra={"group": "user_activity", "version": 1, "entity": "u1"}
    )
    [line] = lines(out)
    record = json.loads(line)
    assert record.pop("ts").endswith("Z")
    assert record == {
        "level": "warning",
        "logger": "sportsfeat.writer",
        "msg": "value x rejected",
        "group": "user_activity",
        "version": 1,
        "entity": "u1",
    }


def test_a_terminal_gets_one_readable_line_with_the_context() -> None:
    out = Terminal()
    configure("auto", stream=out)
    logging.getLogger("sportsfeat.cli").info("job running", extra={"job": "user-activity"})
    [line] = lines(out)
    assert line.endswith(" INFO    sportsfeat.cli: job running  [job=user-activity]")
    assert not line.startswith("{")


def test_exceptions_are_one_json_field() -> None:
    out = io.StringIO()
    configure("json", stream=out)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("t").exception("failed")
    [line] = lines(out)
    assert "ValueError: boom" in json.loads(line)["exc"]


def test_uvicorn_logs_through_the_same_handler() -> None:
    out = io.StringIO()
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_error.addHandler(logging.StreamHandler(io.StringIO()))  # as uvicorn's own config does
    configure("json", stream=out)
    uvicorn_error.warning("Uvicorn running")
    assert [json.loads(line)["logger"] for line in lines(out)] == ["uvicorn.error"]
    assert uvicorn_error.handlers == []


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("connecting to redis://default:s3cr3t@redis:6379/0", "s3cr3t"),
        ("registry https://svc:hunter2@registry/apis failed", "hunter2"),
        ("{'sasl.password': 'kafka-pass', 'sasl.username': 'u'}", "kafka-pass"),
        ("sasl.password=kafka-pass bootstrap=b:9092", "kafka-pass"),
        ('{"password": "pw-in-json"}', "pw-in-json"),
        ("GET /features?api_key=query-key", "query-key"),
        ("header X-API-Key: header-key", "header-key"),
        ("the configured key known-key-123 was used", "known-key-123"),
    ],
)
def test_secrets_are_masked(text: str, leaked: str) -> None:
    redacted = Redactor(["known-key-123", ""])(text)
    assert leaked not in redacted
    assert "***" in redacted


def test_secrets_are_masked_in_messages_context_and_tracebacks() -> None:
    out = io.StringIO()
    configure("json", secrets=["key-one", "key-two"], stream=out)
    log = logging.getLogger("t")
    try:
        raise ConnectionError("redis://:pw@host:6379 refused")
    except ConnectionError:
        log.exception("key-one failed", extra={"entity": "key-two"})
    text = out.getvalue()
    for secret in ("key-one", "key-two", ":pw@"):
        assert secret not in text
    assert json.loads(text)["entity"] == "***"


def test_plain_text_is_left_alone() -> None:
    text = "applied 12 values to feat:user_activity:v1 in 3 ms (topic features.user_activity.v1)"
    assert Redactor()(text) == text
