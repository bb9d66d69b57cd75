"""Times as the API reads and writes them: epoch milliseconds, ISO 8601 in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_MS = re.compile(r"[0-9]{1,15}")
AT_FORMS = (
    "ISO 8601 with a zone (2026-01-01T12:00:00.250Z, or an offset with + sent as %2B) "
    "or epoch milliseconds (1767268800250)"
)


@lru_cache(maxsize=1 << 14)  # values of one window share their event time and window start
def iso(ms: str | int) -> str:
    """An epoch-millisecond time (as stored, or an int) as the API writes it: ISO 8601 in
    UTC, exact to the ms."""
    return datetime.fromtimestamp(int(ms) / 1000, UTC).isoformat().replace("+00:00", "Z")


def parse_at(text: str) -> int:
    """A request time given in one of the `AT_FORMS`, in epoch ms (floored); ValueError
    naming the forms for anything else."""
    if EPOCH_MS.fullmatch(text):
        return int(text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ValueError(f"malformed at={text!r}: use {AT_FORMS}")
    return (when - EPOCH) // timedelta(milliseconds=1)
