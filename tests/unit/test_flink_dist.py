"""Which Flink release the stack, the client and the plan compiler run."""

from pathlib import Path

import pytest
from pyflink.version import __version__ as OWN

from flink_jobs.errors import UserError
from flink_jobs.settings import PROJECT_ROOT, Settings
from flink_jobs.stack.flink_dist import PREVIOUS_PATCH, flink_dist


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
