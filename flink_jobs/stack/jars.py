"""The JVM artifacts: pinned jars fetched by Maven from jvm/pom.xml and verified by checksum,
and the project's own UDF jar built from udfs/java.

The jar cache lives outside git (``Settings.jar_cache``). Every file Maven copies must be
listed in jvm/checksums.sha256 with the same SHA-256, or setup fails naming the file.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

from flink_jobs.errors import UserError
from flink_jobs.progress import Progress, follow
from flink_jobs.settings import PROJECT_ROOT, load_settings
from udfs import JAVA_PROJECT, UDF_JAR, udf_jar

POM = PROJECT_ROOT / "jvm" / "pom.xml"
CHECKSUMS = PROJECT_ROOT / "jvm" / "checksums.sha256"
GROUPS = ("flink", "kafka", "registry")
MAVEN_GOALS = (
    "dependency:copy@flink",
    "dependency:copy@registry",
    "dependency:copy-dependencies@kafka",
)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _artifacts(cache: Path) -> dict[str, Path]:
    """Every fetched artifact by its path relative to the cache (unpacked dirs excluded)."""
    found: dict[str, Path] = {}
    for group in GROUPS:
        for path in sorted((cache / group).glob("*")):
            if path.is_file():
                found[f"{group}/{path.name}"] = path
    return found


def expected_checksums(checksums: Path = CHECKSUMS) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in checksums.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split()
            pins[name] = digest
    return pins


def verify(cache: Path, checksums: Path = CHECKSUMS) -> list[str]:
    """Problems with the cache, one line each; empty when every pinned file is there and intact."""
    pins = expected_checksums(checksums)
    present = _artifacts(cache)
    problems = [f"missing {name}" for name in sorted(pins.keys() - present.keys())]
    problems += [f"not pinned {name}" for name in sorted(present.keys() - pins.keys())]
    problems += [
        f"checksum mismatch {name}"
        for name in sorted(pins.keys() & present.keys())
        if _sha256(present[name]) != pins[name]
    ]
    return problems


def write_checksums(cache: Path) -> None:
    """Pin what is in the cache now (for a deliberate version bump in jvm/pom.xml)."""
    lines = [f"{_sha256(path)}  {name}" for name, path in _artifacts(cache).items()]
    header = (
        "# SHA-256 of every artifact jvm/pom.xml fetches; `sportsfeat setup --write-checksums`\n"
    )
    CHECKSUMS.write_text(header + "\n".join(lines) + "\n")


def fetch(cache: Path, say: Callable[[str], None]) -> None:
    """Bring the cache to exactly the pinned artifacts, running Maven only when needed."""
    if not verify(cache):
        say(f"jars: all {len(expected_checksums())} pinned artifacts present in {cache}")
    else:
        if shutil.which("mvn") is None:
            raise UserError("Maven (mvn) is not on PATH: install it (apt-get install maven)")
        for group in GROUPS:
            shutil.rmtree(cache / group, ignore_errors=True)
        say(f"jars: fetching pinned artifacts from Maven Central into {cache} ...")
        # No strict checksums (-C): Maven Central serves no checksum file for some artifacts,
        # and the SHA-256 pins checked below are the stronger integrity check.
        maven = subprocess.Popen(
            ["mvn", "-B", "-q", "-f", str(POM), f"-Djars.dir={cache}", *MAVEN_GOALS],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        with Progress("jars", len(expected_checksums()), "artifacts", say) as bar:
            stdout = follow(maven, lambda: bar.update(len(_artifacts(cache))))
        if maven.returncode != 0:
            errors = [ln for ln in stdout.splitlines() if "ERROR" in ln][:3]
            raise UserError("Maven could not fetch the pinned jars: " + " | ".join(errors))
        shutil.rmtree(POM.parent / "target", ignore_errors=True)
        problems = verify(cache)
        if problems:
            raise UserError(
                "fetched jars do not match jvm/checksums.sha256: " + "; ".join(problems[:5])
            )
        say(f"jars: {len(expected_checksums())} artifacts fetched and verified")
    _unpack_registry(cache)


def _unpack_registry(cache: Path) -> None:
    archive = next((cache / "registry").glob("*.tar.gz"))
    target = cache / "registry" / archive.name.removesuffix(".tar.gz")
    if target.is_dir():
        return
    tmp = target.with_suffix(".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
    tmp.rename(target)


def registry_runner(cache: Path) -> Path:
    runners = sorted((cache / "registry").glob("*/*-runner.jar"))
    if not runners:
        raise UserError(f"Apicurio Registry is not in {cache}: run `sportsfeat setup` first")
    return runners[-1]


def kafka_classpath(cache: Path) -> str:
    if not (cache / "kafka").is_dir():
        raise UserError(f"the Kafka jars are not in {cache}: run `sportsfeat setup` first")
    return str(cache / "kafka" / "*")


def flink_jars(cache: Path) -> list[Path]:
    """Every jar a feature job needs beside Flink's own: the pinned connector, format and
    metrics jars, and the UDF jar (for the cluster's lib/ and for `pipeline.jars`)."""
    jars = sorted((cache / "flink").glob("*.jar"))
    if not jars:
        raise UserError(
            f"the Flink connector jars are not in {cache}: run `sportsfeat setup` first"
        )
    try:
        return [*jars, udf_jar()]
    except FileNotFoundError as exc:
        raise UserError(str(exc)) from exc


def connector_jars() -> list[Path]:
    """`flink_jars` of the configured jar cache."""
    return flink_jars(load_settings().jar_cache)


def _udf_sources_digest() -> str:
    """SHA-256 over the UDF module's pom and main sources (paths and contents)."""
    digest = hashlib.sha256()
    sources = [JAVA_PROJECT / "pom.xml", *sorted((JAVA_PROJECT / "src" / "main").rglob("*"))]
    for path in sources:
        if path.is_file():
            digest.update(str(path.relative_to(JAVA_PROJECT)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_udfs(say: Callable[[str], None]) -> Path:
    """Build the UDF jar with Maven when it is missing or its sources changed since the last
    build (the digest of the sources it was built from is kept beside it)."""
    stamp = UDF_JAR.with_name(UDF_JAR.name + ".sources-sha256")
    digest = _udf_sources_digest()
    if UDF_JAR.is_file() and stamp.is_file() and stamp.read_text() == digest:
        say(f"udfs: {UDF_JAR.name} is up to date")
        return UDF_JAR
    if shutil.which("mvn") is None:
        raise UserError("Maven (mvn) is not on PATH: install it (apt-get install maven)")
    say("udfs: building the Java UDF jar with Maven ...")
    result = subprocess.run(
        ["mvn", "-B", "-q", "-f", str(JAVA_PROJECT / "pom.xml"), "package", "-DskipTests"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not UDF_JAR.is_file():
        errors = [ln for ln in result.stdout.splitlines() if "ERROR" in ln][:3]
        raise UserError("Maven could not build udfs/java: " + " | ".join(errors))
    stamp.write_text(digest)
    say(f"udfs: built {UDF_JAR}")
    return UDF_JAR
