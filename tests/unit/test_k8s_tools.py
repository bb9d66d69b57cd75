import os
from pathlib import Path

import pytest

from flink_jobs.errors import UserError
from flink_jobs.k8s_tools import KUSTOMIZE_VERSION, ensure_kustomize, kustomize_binary
from flink_jobs.settings import Settings


def fake_go(folder: Path, version: str) -> Path:
    """A `go` whose `install` leaves a kustomize printing `version` in $GOBIN."""
    folder.mkdir()
    go = folder / "go"
    go.write_text(
        "#!/bin/sh\n"
        'echo "$@" > "$(dirname "$0")/args"\n'
        'mkdir -p "$GOBIN"\n'
        f"printf '#!/bin/sh\\necho {version}\\n' > \"$GOBIN/kustomize\"\n"
        'chmod +x "$GOBIN/kustomize"\n'
    )
    go.chmod(0o755)
    return folder


def test_builds_the_pinned_version_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = fake_go(tmp_path / "gobin", KUSTOMIZE_VERSION)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    settings = Settings(tool_cache=tmp_path / "tools")
    lines: list[str] = []
    assert ensure_kustomize(settings, lines.append) == kustomize_binary(settings)
    assert (bin_dir / "args").read_text().split() == [
        "install",
        f"sigs.k8s.io/kustomize/kustomize/v5@{KUSTOMIZE_VERSION}",
    ]
    (bin_dir / "args").unlink()
    ensure_kustomize(settings, lines.append)
    assert not (bin_dir / "args").exists()  # present: Go is not run again
    assert len(lines) == 2


def test_a_binary_of_another_version_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = fake_go(tmp_path / "gobin", "v0.0.1")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    settings = Settings(tool_cache=tmp_path / "tools")
    with pytest.raises(UserError, match=f"says 'v0.0.1', not {KUSTOMIZE_VERSION}"):
        ensure_kustomize(settings, print)
    assert not kustomize_binary(settings).exists()
