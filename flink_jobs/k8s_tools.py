"""kustomize, pinned: built from its Go module into the tool cache by `sportsfeat setup`.

The Go command checks every module it downloads against the Go checksum database, so the
pinned version is also a pinned content. The binary lives in a folder named after the
version: a bump of the pin builds the new one beside the old.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from flink_jobs.errors import UserError
from flink_jobs.settings import Settings

KUSTOMIZE_MODULE = "sigs.k8s.io/kustomize/kustomize/v5"
# v5.8.3 needs Go 1.27; v5.8.2 builds with this machine's Go 1.26.
KUSTOMIZE_VERSION = "v5.8.2"
# Where Go's official archive installs it, for a shell whose PATH lacks it.
GO_HOME_BIN = Path("/usr/local/go/bin/go")


def kustomize_binary(settings: Settings) -> Path:
    return settings.tool_cache / f"kustomize-{KUSTOMIZE_VERSION}" / "kustomize"


def _go() -> str:
    found = shutil.which("go") or (str(GO_HOME_BIN) if GO_HOME_BIN.is_file() else None)
    if found is None:
        raise UserError(
            f"kustomize {KUSTOMIZE_VERSION} is built with Go, which is not on PATH: "
            "install Go 1.26 (or put it in /usr/local/go)"
        )
    return found


def ensure_kustomize(settings: Settings, say: Callable[[str], None]) -> Path:
    """The pinned kustomize, built only when the tool cache lacks it."""
    binary = kustomize_binary(settings)
    if binary.is_file():
        return binary
    say(f"kustomize: building {KUSTOMIZE_MODULE}@{KUSTOMIZE_VERSION} with Go ...")
    partial = binary.parent.with_suffix(".partial")
    shutil.rmtree(partial, ignore_errors=True)
    env = {**os.environ, "GOBIN": str(partial), "GOTOOLCHAIN": "local"}
    result = subprocess.run(
        [_go(), "install", f"{KUSTOMIZE_MODULE}@{KUSTOMIZE_VERSION}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise UserError(f"go install of kustomize failed: {result.stderr.strip()[-400:]}")
    version = subprocess.run(
        [str(partial / "kustomize"), "version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if version != KUSTOMIZE_VERSION:
        raise UserError(f"the built kustomize says {version!r}, not {KUSTOMIZE_VERSION}")
    partial.rename(binary.parent)
    say(f"kustomize: {KUSTOMIZE_VERSION} in {binary}")
    return binary
