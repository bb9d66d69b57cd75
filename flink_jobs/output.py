"""The CLI's output conventions, shared by every command that lists or reports: aligned
columns for people, one JSON document with --json for scripts (progress then on stderr)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import click
import orjson
from click.decorators import FC


def table(rows: Iterable[Sequence[str]], indent: str = "") -> list[str]:
    """`rows` (of equal length) as lines, each column as wide as its widest cell."""
    cells = [list(row) for row in rows]
    widths = [max(map(len, column)) for column in zip(*cells, strict=True)]
    padded = (zip(row, widths, strict=True) for row in cells)
    return [(indent + "  ".join(c.ljust(width) for c, width in row)).rstrip() for row in padded]


def dumps(document: object) -> str:
    """`document` as --json prints it: indented; NaN and infinities become null."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()


def json_option(command: FC) -> FC:
    """The --json flag (parameter `as_json`)."""
    return click.option(
        "--json", "as_json", is_flag=True, help="One JSON document on stdout, for scripts."
    )(command)


def say_to_stderr(line: str) -> None:
    """Progress of a command whose stdout is one JSON document."""
    click.echo(line, err=True)


def emit(as_json: bool, document: object, lines: Iterable[str]) -> None:
    """With --json, `document` as one JSON document on stdout; else `lines`, for people."""
    for line in [dumps(document)] if as_json else lines:
        click.echo(line)
