"""The peer's own virtual environment: Quix Streams 3.28 wants confluent-kafka < 2.13 and
protobuf 7, PyFlink's Beam protobuf 5, so it cannot share the project's (platform facts).

Created on first use in the tool cache (peers/quix) from the pinned
requirements.txt beside this file, and re-installed when that file changes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from flink_jobs.errors import UserError
from flink_jobs.settings import Settings, load_settings

REQUIREMENTS = Path(__file__).with_name("requirements.txt")
APP = Path(__file__).with_name("quix_app.py")


def python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure(settings: Settings, say: Callable[[str], None]) -> Path:
    """The peer venv's python, creating or updating the venv if its pins changed."""
    venv = settings.tool_cache / "peers" / "quix"
    marker = venv / ".installed-requirements.txt"
    wanted = REQUIREMENTS.read_text()
    if python(venv).exists() and marker.exists() and marker.read_text() == wanted:
        return python(venv)
    say(f"peer: installing Quix Streams (pinned) into {venv} ...")
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [
            str(python(venv)),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-r",
            str(REQUIREMENTS),
        ],
        [str(python(venv)), "-c", "import quixstreams, redis"],
    ]
    for argv in steps:
        result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600)
        if result.returncode != 0:
            raise UserError(f"peer venv: `{' '.join(argv)}` failed: {result.stderr[-400:]}")
    marker.write_text(wanted)
    return python(venv)


if __name__ == "__main__":  # ./dev setup: ready before the first bench
    print(f"peer: Quix Streams ready in {ensure(load_settings(), print).parent.parent}")
