"""The CLI answers bad input with one line that says what is wrong and what to do."""

import subprocess
import sys

import pytest

COMMANDS = ["setup", "stack", "schemas", "run", "produce", "features", "serve", "demo", "status"]
# Ports where nothing listens, so "the stack is not running" is what every command meets.
NO_STACK = ["--registry-port", "1999", "--flink-rest-port", "1998", "--redis-port", "1997"]


def sportsfeat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flink_jobs.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_unknown_command() -> None:
    result = sportsfeat("bogus")
    assert result.returncode == 2
    assert "No such command 'bogus'" in one_line_error(result)


def test_wrong_port() -> None:
    result = sportsfeat("--kafka-port", "99999", "stack", "status")
    assert result.returncode == 2
    assert "99999 is not in the range 1024<=x<=65535" in one_line_error(result)


def test_port_from_environment_is_checked_too() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flink_jobs.cli", "stack", "status"],
        capture_output=True,
        text=True,
        check=False,
        env={"SPORTSFEAT_KAFKA_PORT": "ninety", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert "SPORTSFEAT_KAFKA_PORT='ninety' is not a whole number" in one_line_error(result)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["schemas", "register"], "does not answer"),
        (["run"], "does not answer"),
        (["features", "u1"], "Redis does not answer"),
    ],
)
def test_missing_stack_says_how_to_start_it(args: list[str], expected: str) -> None:
    result = sportsfeat(*NO_STACK, *args)
    assert result.returncode == 1
    line = one_line_error(result)
    assert expected in line
    assert "stack up" in line


def test_unknown_service_for_logs() -> None:
    result = sportsfeat("stack", "logs", "zookeeper")
    assert result.returncode == 1
    assert "choose one of kafka, registry, redis, flink, writer, api" in one_line_error(result)


def test_help_explains_every_command() -> None:
    result = sportsfeat("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout
