"""The Flink distributions the stack runs: the project's own (the apache-flink wheel of this
virtual environment) and the previous patch release, for the patch-upgrade test.

A side distribution is the release's two wheels (apache-flink: pyflink and conf/;
apache-flink-libraries: bin/, lib/, opt/, plugins/), hash-pinned and pip-installed without
dependencies into its own folder of the tool cache. Its processes get FLINK_HOME (pyflink
finds its JVM there, not by its import path) and a PYTHONPATH that puts its pyflink before
this venv's, so the client, the compiler and the cluster all run that release.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyflink
from pyflink.version import __version__ as OWN_VERSION

from flink_jobs.errors import UserError
from flink_jobs.settings import PROJECT_ROOT, Settings

# The previous patch release: the wheels' SHA-256 (the apache-flink wheel of CPython 3.11 on
# x86_64 Linux; the libraries wheel is pure).
PREVIOUS_PATCH = "2.2.0"
PINS = {
    PREVIOUS_PATCH: (
        "apache-flink==2.2.0 "
        "--hash=sha256:e5509253319f2418b7724afa0aeb28211a6dcff7dfa5d403acefa03e8b44c5b9",
        "apache-flink-libraries==2.2.0 "
        "--hash=sha256:675062484d9b04df228be80cf4179c9f92e9e11107a697ccbb1aa7d3b816772b",
    )
}
# The lines of pip's own output said as the install's steps (a download names its size).
PIP_STEPS = ("Downloading", "Using cached", "Installing collected packages")


@dataclass(frozen=True)
class FlinkDist:
    version: str
    site: Path | None  # the folder holding its pyflink; None: this venv's own

    @property
    def home(self) -> Path:
        """FLINK_HOME: bin/, conf/, lib/, opt/, plugins/."""
        return self.site / "pyflink" if self.site else Path(pyflink.__file__).parent

    def env(self) -> dict[str, str]:
        """What a process needs to run this release (client, compiler or cluster)."""
        # FLINK_OPT_DIR too: PyFlink exports its own into os.environ, and the client takes
        # its PythonDriver jar from there.
        env = {"FLINK_HOME": str(self.home), "FLINK_OPT_DIR": str(self.home / "opt")}
        if self.site:
            env["PYTHONPATH"] = os.pathsep.join([str(self.site), str(PROJECT_ROOT)])
        return env


def _site(settings: Settings, version: str) -> Path:
    return settings.tool_cache / f"flink-{version}"


def own_dist() -> FlinkDist:
    return FlinkDist(OWN_VERSION, None)


def flink_dist(settings: Settings) -> FlinkDist:
    """The distribution `settings.flink_version` names ("" or the wheel's: the venv's own)."""
    version = settings.flink_version or OWN_VERSION
    if version == OWN_VERSION:
        return own_dist()
    if version not in PINS:
        raise UserError(
            f"Flink {version} is not a distribution of this project: use {OWN_VERSION} "
            f"(this venv's) or {', '.join(PINS)} (installed by `sportsfeat setup`)"
        )
    site = _site(settings, version)
    if not installed(settings, version):
        raise UserError(f"Flink {version} is not installed in {site}: run `sportsfeat setup`")
    return FlinkDist(version, site)


def pinned_platform() -> bool:
    """Whether this interpreter can take the pinned apache-flink wheel."""
    cpython_311 = sys.version_info[:2] == (3, 11)
    return sys.platform == "linux" and platform.machine() == "x86_64" and cpython_311


def installed(settings: Settings, version: str) -> bool:
    return (_site(settings, version) / "pyflink" / "bin" / "flink").exists()


def install_previous_patch(settings: Settings, say: Callable[[str], None]) -> None:
    """Install PREVIOUS_PATCH into the tool cache unless it is there (~340 MB)."""
    site = _site(settings, PREVIOUS_PATCH)
    if installed(settings, PREVIOUS_PATCH):
        return
    if not pinned_platform():
        say(f"flink {PREVIOUS_PATCH}: not installed, its wheel is pinned for CPython 3.11 on "
            "x86_64 Linux (the patch-upgrade test is skipped)")  # fmt: skip
        return
    say(f"flink {PREVIOUS_PATCH}: installing the previous patch release into {site} ...")
    partial = site.with_name(site.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    pins = partial / "requirements.txt"
    pins.write_text("\n".join(PINS[PREVIOUS_PATCH]) + "\n")
    argv = [
        sys.executable, "-m", "pip", "install", "--progress-bar", "off",
        "--disable-pip-version-check", "--no-deps", "--require-hashes", "--only-binary", ":all:",
        "--target", str(partial), "-r", str(pins),
    ]  # fmt: skip
    started, output = time.monotonic(), list[str]()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # pip's lines as they come
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as pip:
        for line in pip.stdout or ():
            output.append(line)
            if line.lstrip().startswith(PIP_STEPS):
                say(f"flink {PREVIOUS_PATCH}: {line.strip()}")
    if pip.returncode != 0:
        raise UserError(f"installing Flink {PREVIOUS_PATCH} failed: {''.join(output)[-400:]}")
    pins.unlink()
    partial.rename(site)
    say(f"flink {PREVIOUS_PATCH}: installed in {time.monotonic() - started:.0f} s")
