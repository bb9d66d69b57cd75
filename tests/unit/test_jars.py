import hashlib
from pathlib import Path

from flink_jobs.stack import jars


def pin(tmp_path: Path, files: dict[str, bytes]) -> Path:
    lines = [f"{hashlib.sha256(data).hexdigest()}  {name}" for name, data in files.items()]
    checksums = tmp_path / "checksums.sha256"
    checksums.write_text("# comment\n" + "\n".join(lines) + "\n")
    return checksums


def put(cache: Path, name: str, data: bytes) -> None:
    (cache / name).parent.mkdir(parents=True, exist_ok=True)
    (cache / name).write_bytes(data)


def test_intact_cache_has_no_problems(tmp_path: Path) -> None:
    checksums = pin(tmp_path, {"flink/a.jar": b"a", "kafka/b.jar": b"b"})
    put(tmp_path / "c", "flink/a.jar", b"a")
    put(tmp_path / "c", "kafka/b.jar", b"b")
    assert jars.verify(tmp_path / "c", checksums) == []


def test_missing_tampered_and_unpinned_files_are_named(tmp_path: Path) -> None:
    checksums = pin(tmp_path, {"flink/a.jar": b"a", "kafka/b.jar": b"b"})
    put(tmp_path / "c", "flink/a.jar", b"tampered")
    put(tmp_path / "c", "registry/extra.tar.gz", b"x")
    assert jars.verify(tmp_path / "c", checksums) == [
        "missing kafka/b.jar",
        "not pinned registry/extra.tar.gz",
        "checksum mismatch flink/a.jar",
    ]


def test_the_committed_pins_cover_every_group() -> None:
    names = jars.expected_checksums()
    for group in jars.GROUPS:
        assert any(name.startswith(group + "/") for name in names)
    assert "flink/flink-sql-connector-kafka-5.0.0-2.2.jar" in names
