"""Offline Avro schema compatibility, as a schema registry would judge it.

Implements the resolution rules of the Avro 1.11 specification ("Schema Resolution") on
parsed `.avsc` JSON, and Confluent's compatibility levels on top, so a schema change can be
checked against every released version without a running registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LEVELS = (
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
)
PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = frozenset({"record", "enum", "fixed"})
# Reader type -> writer types it can read by promotion.
PROMOTIONS = {
    "long": frozenset({"int"}),
    "float": frozenset({"int", "long"}),
    "double": frozenset({"int", "long", "float"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}


@dataclass(frozen=True)
class Incompatibility:
    path: str
    rule: str
    message: str


def reader_incompatibilities(reader: object, writer: object) -> list[Incompatibility]:
    """Why data written with `writer` cannot be read with `reader`; [] when it can."""
    reader_node, writer_node = _normalize(reader, "", {}), _normalize(writer, "", {})
    resolver = _Resolver()
    resolver.check(reader_node, writer_node, _label(reader_node))
    return resolver.found


def check(new: object, released: list[object], level: str) -> list[Incompatibility]:
    """Incompatibilities of `new` against `released` (oldest first) under a Confluent level.

    BACKWARD: new reads the latest released; FORWARD: the latest released reads new; FULL:
    both. *_TRANSITIVE: the same against every released version. NONE: always [].
    """
    if level not in LEVELS:
        raise ValueError(f"unknown compatibility level {level!r}; use one of {', '.join(LEVELS)}")
    if level == "NONE" or not released:
        return []
    direction = level.removesuffix("_TRANSITIVE")
    found: list[Incompatibility] = []
    for old in released if level.endswith("_TRANSITIVE") else released[-1:]:
        if direction in ("BACKWARD", "FULL"):
            found += reader_incompatibilities(new, old)
        if direction in ("FORWARD", "FULL"):
            found += reader_incompatibilities(old, new)
    return list(dict.fromkeys(found))  # the same problem against several versions, once


def _fullname(name: str, namespace: str) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def _normalize(schema: Any, namespace: str, names: dict[str, dict[str, Any]]) -> Any:
    """`schema` with every type a dict (unions stay lists) and named references replaced by
    their definitions, which makes recursive types cyclic."""
    if isinstance(schema, list):
        return [_normalize(branch, namespace, names) for branch in schema]
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return {"type": schema}
        fullname = _fullname(schema, namespace)
        if fullname not in names:
            raise ValueError(f"unknown Avro type {schema!r} (a named type must be defined first)")
        return names[fullname]
    if not isinstance(schema, dict):
        raise ValueError(f"not an Avro schema: {schema!r}")
    kind = schema.get("type")
    if kind in PRIMITIVES:
        return dict(schema)
    if kind == "array":
        return {**schema, "items": _normalize(schema["items"], namespace, names)}
    if kind == "map":
        return {**schema, "values": _normalize(schema["values"], namespace, names)}
    if kind in NAMED or kind == "error":
        return _define(schema, namespace, names)
    return _normalize(kind, namespace, names)  # {"type": <a type or reference>}


def _define(schema: dict[str, Any], namespace: str, names: dict[str, dict[str, Any]]) -> Any:
    fullname = _fullname(schema["name"], schema.get("namespace", namespace))
    kind = "record" if schema["type"] == "error" else schema["type"]
    node = {**schema, "type": kind, "name": fullname}
    names[fullname] = node  # before the fields, so that they can refer to it
    if kind == "record":
        inner = fullname.rpartition(".")[0]
        node["fields"] = [
            {**f, "type": _normalize(f["type"], inner, names)} for f in node["fields"]
        ]
    return node


def _short(name: str) -> str:
    return name.rpartition(".")[2]


def _label(node: Any) -> str:
    """How a type shows in a path: its unqualified name, or its kind."""
    if isinstance(node, list):
        return "union"
    return _short(node["name"]) if node["type"] in NAMED else str(node["type"])


def _describe(node: Any) -> str:
    label = _label(node)
    return f"{node['type']} {label}" if label != node["type"] else label


def _logical(node: dict[str, Any]) -> str:
    """The logical type annotation as compared and shown: "none", "date", "decimal(10,2)"."""
    name = node.get("logicalType")
    if name == "decimal":
        return f"decimal({node.get('precision')},{node.get('scale', 0)})"
    return str(name or "none")


def _names_match(reader: dict[str, Any], writer: dict[str, Any]) -> bool:
    accepted = {_short(n) for n in [reader["name"], *reader.get("aliases", [])]}
    return _short(writer["name"]) in accepted


def _readable_kind(reader: dict[str, Any], writer: dict[str, Any]) -> bool:
    """Same kind of type, or a promotion."""
    return bool(
        reader["type"] == writer["type"] or writer["type"] in PROMOTIONS.get(reader["type"], ())
    )


def _matches(reader: Any, writer: Any) -> bool:
    """The spec's "match", which picks the reader union branch for a writer type."""
    if isinstance(reader, list) or isinstance(writer, list):
        return True
    if not _readable_kind(reader, writer):
        return False
    kind = reader["type"]
    if kind in NAMED:
        return _names_match(reader, writer) and reader.get("size") == writer.get("size")
    if kind == "array":
        return _matches(reader["items"], writer["items"])
    if kind == "map":
        return _matches(reader["values"], writer["values"])
    return True


@dataclass
class _Resolver:
    found: list[Incompatibility] = field(default_factory=list)
    # Record pairs being resolved: meeting one again inside itself adds nothing new.
    _active: set[tuple[int, int]] = field(default_factory=set)

    def report(self, path: str, rule: str, message: str) -> None:
        self.found.append(Incompatibility(path, rule, message))

    def check(self, reader: Any, writer: Any, path: str) -> None:
        if isinstance(writer, list):
            for branch in writer:
                self.check(reader, branch, f"{path}|{_label(branch)}")
        elif isinstance(reader, list):
            self._reader_union(reader, writer, path)
        elif _readable_kind(reader, writer):
            self._same_kind(reader, writer, path)
        else:
            self.report(
                path,
                "TYPE_MISMATCH",
                f"'{path}' is written as {_describe(writer)} but read as {_describe(reader)}, "
                "which Avro cannot convert; keep the type or use an allowed promotion",
            )

    def _reader_union(self, reader: list[Any], writer: dict[str, Any], path: str) -> None:
        branch = next((b for b in reader if _matches(b, writer)), None)
        if branch is None:
            self.report(
                path,
                "MISSING_UNION_BRANCH",
                f"'{path}' is written as {_describe(writer)}, which the reader's union lacks; "
                "add it to the union",
            )
        else:
            self.check(branch, writer, path)

    def _same_kind(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> None:
        """Types of one kind (or a promotion): compare annotations, names, then contents."""
        if _logical(reader) != _logical(writer):
            self.report(
                path,
                "TYPE_MISMATCH",
                f"'{path}' changes logical type from {_logical(writer)} to {_logical(reader)}, "
                "so values would be misread; keep the logical type",
            )
        kind = reader["type"]
        if kind in NAMED and not _names_match(reader, writer):
            self.report(
                path,
                "NAME_MISMATCH",
                f"'{path}' is written as {kind} {_label(writer)} but read as {_label(reader)}; "
                f"keep the name or add {_label(writer)!r} to the reader's aliases",
            )
        if kind == "record":
            self._record(reader, writer, path)
        elif kind == "enum":
            self._enum(reader, writer, path)
        elif kind == "fixed" and reader["size"] != writer["size"]:
            self.report(
                path,
                "FIXED_SIZE_MISMATCH",
                f"'{path}' is written as {writer['size']} bytes but read as {reader['size']}; "
                "keep the size",
            )
        elif kind == "array":
            self.check(reader["items"], writer["items"], f"{path}[]")
        elif kind == "map":
            self.check(reader["values"], writer["values"], f"{path}{{}}")

    def _record(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> None:
        pair = (id(reader), id(writer))
        if pair in self._active:
            return
        self._active.add(pair)
        written = {f["name"]: f for f in writer["fields"]}
        for reader_field in reader["fields"]:
            name = reader_field["name"]
            candidates = [name, *reader_field.get("aliases", [])]
            source = next((written[n] for n in candidates if n in written), None)
            if source is not None:
                self.check(reader_field["type"], source["type"], f"{path}.{name}")
            elif "default" not in reader_field:
                self.report(
                    f"{path}.{name}",
                    "READER_FIELD_MISSING_DEFAULT_VALUE",
                    f"field '{name}' is read but not written and has no default: records "
                    "written without it cannot be read; give it a default",
                )
        self._active.discard(pair)

    def _enum(self, reader: dict[str, Any], writer: dict[str, Any], path: str) -> None:
        missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
        if missing and "default" not in reader:
            self.report(
                path,
                "MISSING_ENUM_SYMBOLS",
                f"'{path}' can be written as {', '.join(missing)}, which the reader's enum "
                f"{_label(reader)} lacks; keep these symbols or give the enum a default",
            )
