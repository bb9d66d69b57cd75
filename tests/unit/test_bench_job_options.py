"""The job-options benchmark's command line: variants are checked before anything runs."""

from __future__ import annotations

import argparse

import pytest

from benchmarks.job_options import variant


def test_a_variant_is_a_label_and_the_jobs_flink_options() -> None:
    assert variant("no reuse=pipeline.object-reuse=false") == (
        "no reuse",
        "pipeline.object-reuse=false",
    )
    assert variant("this project=") == ("this project", "")


@pytest.mark.parametrize(
    ("text", "problem"),
    [("no-label", "use LABEL=KEY=VALUE"), ("=a=1", "use LABEL="), ("x=a", "'a' is not KEY=VALUE")],
)
def test_a_malformed_variant_says_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=problem):
        variant(text)
