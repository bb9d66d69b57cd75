"""What the peer computes per event, as plain Python (no Quix import): the row filter and
the compact row its windows aggregate. Imported by quix_app.py in the peer's venv (with the
project root on PYTHONPATH) and by the unit tests in the project's."""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any

Row = dict[str, Any]
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
}


def holds(row: Row, where: list[list[Any]]) -> bool:
    """A conjunction of [column, op, value] predicates, SQL-like: NULL satisfies none."""
    for column, op, value in where:
        actual = row.get(column)
        if op == "IS NOT NULL":
            if actual is None:
                return False
        elif actual is None or not (actual in value if op == "IN" else COMPARE[op](actual, value)):
            return False
    return True


def as_ms(value: Any) -> int:
    return round(value.timestamp() * 1000) if isinstance(value, datetime) else int(value)


def deriver(spec: dict[str, Any]) -> Callable[[Row], Row]:
    """Event -> the compact row every group reads: keys, event time, one column per feature
    (`<group>.<feature>`): the feature's column value, or 1 for a row-count, None where the
    feature's filter rejects the row."""
    keys = sorted({g["key"] for g in spec["groups"]})
    event_time = spec["event_time"]
    features = [(g["name"], f) for g in spec["groups"] for f in g["features"]]

    def derive(event: Row) -> Row:
        row: Row = {k: event[k] for k in keys}
        row[event_time] = as_ms(event[event_time])
        for group, f in features:
            ok = holds(event, f["where"])
            value = 1 if f["column"] is None else event[f["column"]]
            row[f"{group}.{f['name']}"] = value if ok else None
        return row

    return derive
