"""Progress of long work: one bar redrawn in place on a terminal, plain lines without one.

On a terminal (the stream's isatty()) the bar is redrawn with a carriage return at every
update. Elsewhere (CI logs, pipes, tests) a plain line is said at each further tenth of the
total, or after `every_s` seconds without one (an unknown total, a stall), and a final line:

    jars: 12/98 artifacts (12 %)
    jars: 98/98 artifacts (100 %) in 41 s

Every line goes through the command's `say`; other lines said meanwhile go through
`Progress.say`, which keeps the bar below them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TextIO

import click

Say = Callable[[str], None]
BAR_WIDTH = 20
CLEAR = "\r\x1b[K"  # back to the start of the line, and erase it


class Progress:
    """`with Progress("jars", 98, "artifacts", say) as bar: ... bar.update(n) ...`;
    `total` None: unknown (count and rate instead)."""

    def __init__(
        self, label: str, total: float | None, unit: str, say: Say,
        stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
        every_s: float = 30.0,
    ) -> None:  # fmt: skip
        self.label, self.total, self.unit = label, total, unit
        self.done = 0.0
        self._say, self._clock, self._every_s = say, clock, every_s
        self._stream = stream or sys.stdout
        self._tty = self._stream.isatty()
        self._started = self._said_at = clock()
        self._said_tenths = 0
        self._note = ""
        self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, done: float, note: str = "") -> None:
        """`done` so far; `note` says what is going on (shown until the next update)."""
        self.done, self._note = done, note
        if self._tty:
            self._draw()
            return
        fraction, now = self._fraction(), self._clock()
        tenths = 0 if fraction is None else int(10 * fraction)
        due = tenths > self._said_tenths or now - self._said_at >= self._every_s
        if due and (fraction is None or fraction < 1):  # the final line says the end
            self._said_tenths, self._said_at = tenths, now
            self._say(f"{self.label}: {self._status()}{self._noted()}")

    def advance(self, by: float = 1, note: str = "") -> None:
        self.update(self.done + by, note)

    def say(self, line: str) -> None:
        """A line of its own, above the bar."""
        drawn = self._drawn
        if drawn:
            self._clear()
        self._say(line)
        if drawn:
            self._draw()

    def close(self) -> None:
        if self._drawn:
            self._clear()
        self._say(f"{self.label}: {self._status()} in {self._clock() - self._started:.0f} s")

    def _fraction(self) -> float | None:
        if self.total is None:
            return None
        return min(self.done / self.total, 1.0) if self.total > 0 else 1.0

    def _status(self) -> str:
        fraction = self._fraction()
        if fraction is None:
            elapsed = self._clock() - self._started
            rate = self.done / elapsed if elapsed > 0 else 0.0
            return f"{self.done:,.0f} {self.unit}, {rate:,.1f}/s"
        return f"{self.done:,.0f}/{self.total:,.0f} {self.unit} ({int(100 * fraction)} %)"

    def _noted(self) -> str:
        return f"; {self._note}" if self._note else ""

    def _draw(self) -> None:
        fraction = self._fraction()
        bar = ""
        if fraction is not None:
            bar = "[" + ("#" * round(BAR_WIDTH * fraction)).ljust(BAR_WIDTH, ".") + "] "
        line = f"{self.label}: {bar}{self._status()}{self._noted()}"
        width = shutil.get_terminal_size().columns - 1  # a wrapped line would not redraw
        click.echo(CLEAR + line[:width], file=self._stream, nl=False)
        self._drawn = True

    def _clear(self) -> None:
        click.echo(CLEAR, file=self._stream, nl=False)
        self._drawn = False


def follow(process: subprocess.Popen[str], poll: Callable[[], None], every_s: float = 1) -> str:
    """`process`'s stdout once it has exited, calling `poll` (e.g. to update a Progress) every
    `every_s` meanwhile and once at the end."""
    try:
        while True:
            poll()
            try:
                stdout, _ = process.communicate(timeout=every_s)
            except subprocess.TimeoutExpired:
                continue  # communicating again loses no output
            poll()
            return stdout
    except BaseException:
        process.kill()  # as subprocess.run does
        raise
