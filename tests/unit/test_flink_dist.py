"""Which Flink release the stack, the client and the plan compiler run."""

from pathlib import Path

import pytest
from pyflink.version import __version__ as OWN

from flink_jobs.errors import UserError
from flink_jobs.settings import PROJECT_ROOT, Settings
from flink_jobs.stack.flink_dist import PREVIOUS_PATCH, flink_dist, install_previous_patch


def test_by_default_the_venvs_own_release_runs() -> None:
    for version in ("", OWN):
        dist = flink_dist(Settings(flink_version=version))
        assert (dist.version, dist.site) == (OWN, None)
        assert (dist.home / "bin" / "flink").exists()
        assert "PYTHONPATH" not in dist.env()


def test_a_side_release_comes_first_on_the_python_path(tmp_path: Path) -> None:
    site = tmp_path / f"flink-{PREVIOUS_PATCH}"
    (site / "pyflink" / "bin").mkdir(parents=True)
    (site / "pyflink" / "bin" / "flink").touch()
    dist = flink_dist(Settings(flink_version=PREVIOUS_PATCH, tool_cache=tmp_path))
    assert dist.env() == {
        "FLINK_HOME": str(site / "pyflink"),
        "FLINK_OPT_DIR": str(site / "pyflink" / "opt"),
        "PYTHONPATH": f"{site}:{PROJECT_ROOT}",
    }


def test_an_unknown_or_missing_release_is_named(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"Flink 1\.20\.0 is not a distribution of this project"):
        flink_dist(Settings(flink_version="1.20.0"))
    with pytest.raises(UserError, match=r"not installed in .*: run `sportsfeat setup`"):
        flink_dist(Settings(flink_version=PREVIOUS_PATCH, tool_cache=tmp_path))


def fake_python(folder: Path, body: str) -> Path:
    """An interpreter whose `-m pip install ...` runs `body` (a shell script)."""
    folder.mkdir()
    python = folder / "python"
    python.write_text("#!/bin/sh\n" + body)
    python.chmod(0o755)
    return python


PIP_OUTPUT = """\
echo 'Collecting apache-flink==2.2.0 (from -r requirements.txt (line 1))'
echo '  Downloading apache_flink-2.2.0-cp311-cp311-manylinux_2_17_x86_64.whl (8.3 MB)'
echo 'Collecting apache-flink-libraries==2.2.0 (from -r requirements.txt (line 2))'
echo '  Using cached apache_flink_libraries-2.2.0-py3-none-any.whl (331.5 MB)'
echo 'Installing collected packages: apache-flink-libraries, apache-flink'
echo 'Successfully installed apache-flink-2.2.0 apache-flink-libraries-2.2.0'
"""


def test_the_previous_patch_install_says_pips_steps_as_they_come(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("flink_jobs.stack.flink_dist.pinned_platform", lambda: True)
    monkeypatch.setattr("sys.executable", str(fake_python(tmp_path / "bin", PIP_OUTPUT)))
    said: list[str] = []
    install_previous_patch(Settings(tool_cache=tmp_path / "tools"), said.append)
    assert said[1:] == [
        "flink 2.2.0: Downloading apache_flink-2.2.0-cp311-cp311-manylinux_2_17_x86_64.whl "
        "(8.3 MB)",
        "flink 2.2.0: Using cached apache_flink_libraries-2.2.0-py3-none-any.whl (331.5 MB)",
        "flink 2.2.0: Installing collected packages: apache-flink-libraries, apache-flink",
        "flink 2.2.0: installed in 0 s",
    ]
    assert (tmp_path / "tools" / f"flink-{PREVIOUS_PATCH}").is_dir()


def test_a_failed_install_names_pips_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("flink_jobs.stack.flink_dist.pinned_platform", lambda: True)
    failing = "echo 'ERROR: THESE PACKAGES DO NOT MATCH THE HASHES' >&2\nexit 1\n"
    monkeypatch.setattr("sys.executable", str(fake_python(tmp_path / "bin", failing)))
    with pytest.raises(UserError, match=r"installing Flink 2\.2\.0 failed: ERROR: THESE PACKAGES"):
        install_previous_patch(Settings(tool_cache=tmp_path / "tools"), print)
    assert not (tmp_path / "tools" / f"flink-{PREVIOUS_PATCH}").exists()
