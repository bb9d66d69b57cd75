"""A tile as the tile stream carries it and the online store keeps it: compact JSON, cheap
to parse on every read.

``[tile_start, tile_end, n, first_ms, last_ms, [part, ...]]`` with each part a list of the
IR fields in `merge.FIELDS` order and the sketch image in base64 (the Java tile function
writes it: `TileJson`; `encode` is the same form from Python). Readable with
``redis-cli HGET``; `decode` gives back the dict `merge` reads.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from flink_jobs.tiles.merge import FIELDS, IR, Tile

HEAD = ("tile_start", "tile_end", "n", "first_ms", "last_ms")
SKETCH = FIELDS.index("sketch")


def _part(x: IR) -> list[Any]:
    row = [x.get(name) for name in FIELDS]
    sketch = row[SKETCH]
    if sketch is not None:
        row[SKETCH] = base64.b64encode(sketch).decode()
    return row


def encode(tile: Tile) -> bytes:
    """The tile's stored form (its `feature_group` is in the key, so it is not repeated)."""
    parts = [_part(x) for x in tile["parts"] or ()]
    return orjson.dumps([*(tile[name] for name in HEAD), parts])


def decode(data: bytes | str) -> dict[str, Any]:
    """A stored tile as the dict `merge` reads; ValueError if it is not one."""
    try:
        *head, parts = orjson.loads(data)
        tile: dict[str, Any] = dict(zip(HEAD, head, strict=True))
        rows = [dict(zip(FIELDS, row, strict=True)) for row in parts]
    except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
        raise ValueError(f"not a stored tile: {exc}") from None
    for x in rows:
        if x["sketch"] is not None:
            x["sketch"] = base64.b64decode(x["sketch"])
    tile["parts"] = rows
    return tile
