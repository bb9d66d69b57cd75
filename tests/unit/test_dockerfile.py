"""The Dockerfile's pins are the project's pins: a bump in one place without the other fails."""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from flink_jobs.plans import released_plan
from flink_jobs.settings import PROJECT_ROOT
from flink_jobs.stack import jars

DOCKERFILE = PROJECT_ROOT / "Dockerfile"


def baked_plan(environment: str) -> str:
    """Where the image holds the environment's released plan, which its FlinkDeployment runs."""
    return f"/opt/sportsfeat/{released_plan(environment).relative_to(PROJECT_ROOT).as_posix()}"


UDF_POM = PROJECT_ROOT / "udfs" / "java" / "pom.xml"
POM_NS = {"m": "http://maven.apache.org/POM/4.0.0"}


@dataclass(frozen=True)
class Instruction:
    stage: str  # the stage's `AS` name; "runtime" for the unnamed last stage
    keyword: str
    args: str


@dataclass(frozen=True)
class Dockerfile:
    args: dict[str, str]  # the global ARG defaults
    instructions: list[Instruction]

    def base(self, stage: str) -> str:
        return next(i.args.split()[0] for i in self.of(stage, "FROM"))

    def of(self, stage: str, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.stage == stage and i.keyword == keyword]

    def copies_from(self, stage: str, into: str = "runtime") -> list[list[str]]:
        """Each `COPY --from=<stage> SRC DEST` of stage `into` as [SRC, DEST]."""
        found = [shlex.split(i.args) for i in self.of(into, "COPY")]
        return [c[1:] for c in found if c[0] == f"--from={stage}"]


def parse(text: str) -> Dockerfile:
    """Instructions with continuation lines joined and the global ARG defaults substituted."""
    lines = [ln.strip() for ln in re.sub(r"\\\n", " ", text).splitlines()]
    args: dict[str, str] = {}
    parsed: list[Instruction] = []
    stage = ""
    for line in (ln for ln in lines if ln and not ln.startswith("#")):
        keyword, _, rest = line.partition(" ")
        rest = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], m[0]), rest.strip())
        if keyword == "ARG" and not parsed and "=" in rest:
            name, _, value = rest.partition("=")
            args[name] = value
            continue
        if keyword == "FROM":
            stage = rest.split(" AS ")[1] if " AS " in rest else "runtime"
        parsed.append(Instruction(stage, keyword, rest))
    return Dockerfile(args, parsed)


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    lines = (PROJECT_ROOT / "requirements.lock").read_text().splitlines()
    pairs = [ln.split("==") for ln in lines if ln and not ln.startswith("#")]
    return {normalized(name): version for name, version in pairs}


def pom_property(pom: Path, name: str) -> str:
    root = ET.parse(pom).getroot()  # noqa: S314 (the repository's own pom)
    value = root.findtext(f"m:properties/m:{name}", namespaces=POM_NS)
    assert value, f"{pom} has no <{name}> property"
    return value


def check_flink_and_java(image: Dockerfile) -> None:
    runtime = re.fullmatch(r"flink:(\d+\.\d+\.\d+)-scala_2\.12-java(\d+)", image.base("runtime"))
    assert runtime, "the runtime must be an official flink:<version>-scala_2.12-java<N> image"
    flink, java = runtime.groups()
    assert flink == locked()["apache-flink"] == pom_property(jars.POM, "flink.version")
    assert flink == pom_property(UDF_POM, "flink.version")
    assert image.base("python") == image.base("runtime")
    for stage in ("jars", "udfs"):
        assert image.base(stage).endswith(f"-eclipse-temurin-{java}")
    assert java == pom_property(UDF_POM, "maven.compiler.release")


def check_python(image: Dockerfile) -> None:
    major, minor, _ = image.args["PYTHON_VERSION"].split(".")
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["requires-python"] == f">={major}.{minor},<{major}.{int(minor) + 1}"
    assert pyproject["tool"]["mypy"]["python_version"] == f"{major}.{minor}"
    assert f"PYTHON=${{PYTHON:-python{major}.{minor}}}" in (PROJECT_ROOT / "dev").read_text()


def check_python_packages(image: Dockerfile) -> None:
    runs = " ".join(i.args for i in image.of("python", "RUN"))
    assert "-c requirements.lock -r runtime.txt" in runs
    assert "--no-deps -e ." in runs
    pins = locked()
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    for requirement in pyproject["project"]["dependencies"]:
        name, _, version = re.sub(r"\[.*\]", "", requirement).partition("==")
        assert pins.get(normalized(name)) == version, f"{requirement}: the lock pins another"


def check_flink_jars(image: Dockerfile) -> None:
    (fetch,) = [i.args for i in image.of("jars", "RUN")]
    assert "dependency:copy@flink" in fetch
    assert "grep ' flink/' /build/jvm/checksums.sha256 | sha256sum --check --strict -" in fetch
    copies = [(src.removeprefix("/jars/"), dest) for src, dest in image.copies_from("jars")]
    pinned = [name for name in jars.expected_checksums() if name.startswith("flink/")]
    for name in pinned:
        plugin = name.startswith("flink/flink-metrics-prometheus-")
        expected = "/opt/flink/plugins/metrics-prometheus/" if plugin else "/opt/flink/lib/"
        targets = [dest for src, dest in copies if fnmatch.fnmatch(name, src)]
        assert targets == [expected], f"{name} must be copied once, into {expected}"
    for src, _ in copies:
        assert any(fnmatch.fnmatch(name, src) for name in pinned), f"{src} matches no pinned jar"


def check_udfs(image: Dockerfile) -> None:
    runs = [i.args for i in image.of("udfs", "RUN")]
    assert runs == ["mvn -B -q -f udfs/java/pom.xml package -DskipTests"]
    target = "/build/udfs/java/target/sportsfeat-udfs*.jar"
    assert image.copies_from("udfs") == [[target, "/opt/flink/lib/"]]


def check_baked_plan(image: Dockerfile) -> None:
    """The project folder, flink_jobs/ with it, goes into the runtime whole."""
    assert all(released_plan(env).is_file() for env in ("dev", "prod"))
    (workdir,) = [i.args for i in image.of("python", "WORKDIR")]
    assert workdir == "/opt/sportsfeat" and ["flink_jobs/", "flink_jobs/"] in [
        shlex.split(i.args) for i in image.of("python", "COPY")
    ]
    assert [workdir, workdir] in image.copies_from("python")


def check_user(image: Dockerfile) -> None:
    assert [i.args for i in image.of("runtime", "USER")][-1] == "flink"


CHECKS: list[Callable[[Dockerfile], None]] = [
    check_flink_and_java,
    check_python,
    check_python_packages,
    check_flink_jars,
    check_udfs,
    check_baked_plan,
    check_user,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_the_dockerfile_pins_are_the_projects(check: Callable[[Dockerfile], None]) -> None:
    check(parse(DOCKERFILE.read_text()))


# Each edit changes a pin in the Dockerfile alone; the named check must notice.
DRIFTS = [
    ("flink:2.2.1-scala", "flink:2.2.2-scala", check_flink_and_java),
    ("java17", "java21", check_flink_and_java),
    ("PYTHON_VERSION=3.11.", "PYTHON_VERSION=3.12.", check_python),
    ("-c requirements.lock ", "", check_python_packages),
    ("COPY --from=jars /jars/flink/flink-metrics-prometheus-*.jar", "#", check_flink_jars),
    ("sha256sum --check --strict -", "true", check_flink_jars),
    ("sportsfeat-udfs*.jar", "other*.jar", check_udfs),
    ("COPY flink_jobs/ flink_jobs/", "COPY flink_jobs/ other/", check_baked_plan),
    ("USER flink", "USER root", check_user),
]


@pytest.mark.parametrize(("old", "new", "check"), DRIFTS, ids=[d[0] for d in DRIFTS])
def test_a_pin_changed_in_one_place_only_fails(
    old: str, new: str, check: Callable[[Dockerfile], None]
) -> None:
    text = DOCKERFILE.read_text()
    assert old in text
    with pytest.raises(AssertionError):
        check(parse(text.replace(old, new)))
