"""The metric names a PromQL expression reads: what alert and dashboard tests check."""

from __future__ import annotations

import re

KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "inf", "nan",
}  # fmt: skip
STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
MATCHERS = re.compile(r"\{[^}]*\}")
RANGES = re.compile(r"\[[^\]]*\]")
GROUPINGS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """Every metric `expr` selects (identifiers that are neither functions, keywords nor labels)."""
    for pattern in (STRINGS, MATCHERS, RANGES, GROUPINGS):
        expr = pattern.sub(" ", expr)
    names = set()
    for match in IDENTIFIER.finditer(expr):
        is_function = expr[match.end() :].lstrip().startswith("(")
        if not is_function and match.group() not in KEYWORDS:
            names.add(match.group())
    return names
