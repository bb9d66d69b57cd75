"""The one exception type whose message is shown to the user as is, without a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn


class UserError(Exception):
    """Something the user can fix: the message says what is wrong and what to do."""


def run_main(main: Callable[[], int | None]) -> NoReturn:
    """A module's `main` as a command: its return value is the exit code; a UserError ends
    in one line on stderr and exit code 1."""
    try:
        raise SystemExit(main())
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
