"""The progress convention: one bar redrawn in place on a terminal, plain lines without one."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
from functools import partial
from pathlib import Path

import pytest

from flink_jobs.progress import CLEAR, Progress, follow
from flink_jobs.stack import jars


class Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_without_a_terminal_a_line_at_each_further_tenth_and_a_final_one() -> None:
    said: list[str] = []
    stream, clock = Stream(tty=False), Clock()
    with Progress("jars", 27, "artifacts", said.append, stream, clock) as bar:
        for _ in range(27):
            clock.now += 0.1
            bar.advance()
    assert said[0] == "jars: 3/27 artifacts (11 %)"
    assert said[-2:] == ["jars: 25/27 artifacts (92 %)", "jars: 27/27 artifacts (100 %) in 3 s"]
    assert len(said) == 10  # 9 tenths before the end, the final line
    assert stream.getvalue() == ""  # nothing drawn


def test_without_a_terminal_a_stall_or_an_unknown_total_says_a_line_every_every_s() -> None:
    said: list[str] = []
    clock = Clock()
    bar = Progress("produce", None, "events", said.append, Stream(tty=False), clock, every_s=30)
    for at, done in ((10, 100), (30, 450), (40, 600), (59, 600), (60, 600)):
        clock.now = at
        bar.update(done, note="topic t")
    bar.close()
    assert said == [
        "produce: 450 events, 15.0/s; topic t",
        "produce: 600 events, 10.0/s; topic t",
        "produce: 600 events, 10.0/s in 60 s",
    ]


def test_on_a_terminal_one_line_is_redrawn_and_lines_said_meanwhile_stay_above_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    stream = Stream(tty=True)

    def say(line: str) -> None:  # the command's say, on the same terminal
        stream.write(line + "\n")

    with Progress("drills", 4, "done", say, stream, Clock()) as bar:
        bar.advance()
        bar.say("drill kafka-restart ...")
        bar.advance(note="flink-taskmanager-kill")
    one = "drills: [#####...............] 1/4 done (25 %)"
    two = "drills: [##########..........] 2/4 done (50 %); flink-taskmanager-kill"
    assert stream.getvalue() == (
        f"{CLEAR}{one}{CLEAR}drill kafka-restart ...\n{CLEAR}{one}{CLEAR}{two}"
        f"{CLEAR}drills: 2/4 done (50 %) in 0 s\n"
    )


def test_on_a_terminal_the_bar_fits_the_width_and_an_unknown_total_has_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "22")
    stream, clock = Stream(tty=True), Clock()
    bar = Progress("produce", None, "events", print, stream, clock)
    clock.now = 2
    bar.update(1000)
    assert stream.getvalue() == f"{CLEAR}produce: 1,000 events"  # of "..., 500.0/s": 21 columns


def test_follow_kills_the_process_when_its_poll_fails() -> None:
    process = subprocess.Popen(["sleep", "60"], text=True)

    def poll() -> None:
        raise RuntimeError("poll failed")

    with pytest.raises(RuntimeError):
        follow(process, poll)
    assert process.wait(5) != 0


def tar_gz(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        member = tarfile.TarInfo(name)
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


ARTIFACTS = {
    "flink/a.jar": b"a",
    "kafka/b.jar": b"b",
    "kafka/c.jar": b"c",
    "registry/app-all.tar.gz": tar_gz("app/run.sh", b"#!/bin/sh\n"),
}


class FakeMaven:
    """`mvn` copying one artifact into the jar cache each time it is waited on."""

    def __init__(self, argv: list[str], **_: object) -> None:
        self.cache = Path(next(a for a in argv if a.startswith("-Djars.dir=")).split("=", 1)[1])
        self.pending = list(ARTIFACTS.items())
        self.returncode: int | None = None

    def communicate(self, timeout: float) -> tuple[str, str]:
        name, data = self.pending.pop(0)
        (self.cache / name).parent.mkdir(parents=True, exist_ok=True)
        (self.cache / name).write_bytes(data)
        if self.pending:
            raise subprocess.TimeoutExpired("mvn", timeout)
        self.returncode = 0
        return "", ""


def test_setup_counts_the_pinned_artifacts_as_maven_copies_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checksums = tmp_path / "checksums.sha256"
    checksums.write_text(
        "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in ARTIFACTS.items())
    )
    pins = jars.expected_checksums
    monkeypatch.setattr(jars, "expected_checksums", lambda path=checksums: pins(path))
    monkeypatch.setattr(jars, "verify", partial(jars.verify, checksums=checksums))
    monkeypatch.setattr(jars, "POM", tmp_path / "jvm" / "pom.xml")
    monkeypatch.setattr(shutil, "which", lambda _: "/usr/bin/mvn")
    monkeypatch.setattr(subprocess, "Popen", FakeMaven)
    monkeypatch.setattr("sys.stdout", io.StringIO())  # no terminal, whatever runs the tests
    said: list[str] = []
    jars.fetch(tmp_path / "cache", said.append)
    assert said[1:] == [
        "jars: 1/4 artifacts (25 %)",
        "jars: 2/4 artifacts (50 %)",
        "jars: 3/4 artifacts (75 %)",
        "jars: 4/4 artifacts (100 %) in 0 s",
        "jars: 4 artifacts fetched and verified",
    ]
    assert (tmp_path / "cache" / "registry" / "app-all").is_dir()  # unpacked
