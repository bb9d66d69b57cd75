"""`sportsfeat setup`: everything outside Python the platform needs, installed and verified."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from flink_jobs.errors import UserError
from flink_jobs.k8s_tools import ensure_kustomize
from flink_jobs.settings import Settings
from flink_jobs.stack import jars
from flink_jobs.stack.flink_dist import install_previous_patch

# Debian's postinst scripts would start system-wide services (redis on 6379, prometheus on
# 9090); the stack runs its own redis and needs only prometheus's promtool.
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")


def ensure_java() -> None:
    if shutil.which("java") is None:
        raise UserError(
            "java is not on PATH: install Java 17 (apt-get install openjdk-17-jre-headless)"
        )


def ensure_debian_package(binary: str, package: str, say: Callable[[str], None]) -> None:
    """Install Debian's `package` unless `binary` is on PATH, never starting its service."""
    if shutil.which(binary):
        return
    if os.geteuid() != 0:
        raise UserError(f"{binary} is missing: run `sudo apt-get install -y {package}`")
    say(f"{binary}: installing Debian's {package} ...")
    created = not POLICY_RC_D.exists()
    if created:
        POLICY_RC_D.write_text("#!/bin/sh\nexit 101\n")
        POLICY_RC_D.chmod(0o755)
    try:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for argv in (
            ["apt-get", "update", "-q"],
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", package],
        ):
            result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise UserError(f"`{' '.join(argv)}` failed: {result.stderr.strip()[-300:]}")
    finally:
        if created:
            POLICY_RC_D.unlink()


def setup(settings: Settings, write_checksums: bool, say: Callable[[str], None]) -> None:
    ensure_java()
    if write_checksums:
        jars.write_checksums(settings.jar_cache)
        say(f"wrote {jars.CHECKSUMS}")
        return
    jars.fetch(settings.jar_cache, say)
    jars.build_udfs(say)
    ensure_debian_package("redis-server", "redis-server", say)
    ensure_debian_package("promtool", "prometheus", say)  # checks and tests the alert rules
    ensure_kustomize(settings, say)  # renders k8s/ for the manifest tests
    install_previous_patch(settings, say)  # the Flink patch-upgrade test's old release
