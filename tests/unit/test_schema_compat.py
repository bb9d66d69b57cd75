import io
from dataclasses import dataclass
from typing import Any

import fastavro
import pytest

from flink_jobs.schema_compat import LEVELS, check, reader_incompatibilities

MISSING_DEFAULT = "READER_FIELD_MISSING_DEFAULT_VALUE"
TYPE = "TYPE_MISMATCH"


def field(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def record(*fields: dict[str, Any], name: str = "R", **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": list(fields), **extra}


def one(type_: Any) -> dict[str, Any]:
    """A record R whose only field `f` has the given type."""
    return record(field("f", type_))


def enum(*symbols: str, name: str = "E", **extra: Any) -> dict[str, Any]:
    return {"type": "enum", "name": name, "symbols": list(symbols), **extra}


def fixed(size: int, name: str = "Id") -> dict[str, Any]:
    return {"type": "fixed", "name": name, "size": size}


def logical(type_: str, logical_type: str) -> dict[str, Any]:
    return {"type": type_, "logicalType": logical_type}


def score(*fields: dict[str, Any]) -> dict[str, Any]:
    return record(field("score", record(*fields, name="Score")))


def teams(team_id_type: str) -> dict[str, Any]:
    """A named type defined once, then referenced by short and by full name."""
    team = record(field("id", team_id_type), name="Team")
    return record(
        field("home", team),
        field("away", "Team"),
        field("other", "a.b.Team"),
        namespace="a.b",
    )


def linked_list(value_type: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return record(field("value", value_type), field("next", ["null", "Node"]), *extra, name="Node")


@dataclass(frozen=True)
class Case:
    id: str
    writer: dict[str, Any]
    reader: dict[str, Any]
    expected: list[tuple[str, str]]  # (path, rule) of each incompatibility, in order
    datum: dict[str, Any] | None = None  # a record of the writer schema, for accepted cases


PROMOTIONS = [
    ("int", "long", 1),
    ("int", "float", 1),
    ("int", "double", 1),
    ("long", "float", 2**40),
    ("long", "double", 2**40),
    ("float", "double", 1.5),
    ("string", "bytes", "x"),
    ("bytes", "string", b"x"),
]

ACCEPTED = [
    Case("identical", one("string"), one("string"), [], {"f": "x"}),
    *[Case(f"promote {w}->{r}", one(w), one(r), [], {"f": v}) for w, r, v in PROMOTIONS],
    Case(
        "field added with default",
        one("int"),
        record(field("f", "int"), field("g", "string", default="")),
        [],
        {"f": 1},
    ),
    Case(
        "optional field added with default null",
        one("int"),
        record(field("f", "int"), field("g", ["null", "string"], default=None)),
        [],
        {"f": 1},
    ),
    Case(
        "field removed",
        record(field("f", "int"), field("g", "int")),
        one("int"),
        [],
        {"f": 1, "g": 2},
    ),
    Case(
        "field renamed with alias",
        one("int"),
        record(field("g", "int", aliases=["f"])),
        [],
        {"f": 1},
    ),
    Case(
        "record renamed with alias",
        one("int"),
        record(field("f", "int"), name="S", aliases=["R"]),
        [],
        {"f": 1},
    ),
    Case("union widened from T", one("long"), one(["null", "long"]), [], {"f": 5}),
    Case("union widened", one(["null", "long"]), one(["null", "long", "string"]), [], {"f": None}),
    Case("reader union branch by promotion", one("int"), one(["null", "double"]), [], {"f": 3}),
    Case("enum symbol added", one(enum("A", "B")), one(enum("A", "B", "C")), [], {"f": "B"}),
    Case(
        "enum symbol removed, reader default",
        one(enum("A", "B", "C")),
        one(enum("A", "B", default="A")),
        [],
        {"f": "C"},
    ),
    Case(
        "array items promoted",
        one({"type": "array", "items": "int"}),
        one({"type": "array", "items": "long"}),
        [],
        {"f": [1, 2]},
    ),
    Case(
        "map values promoted",
        one({"type": "map", "values": "int"}),
        one({"type": "map", "values": "double"}),
        [],
        {"f": {"a": 1}},
    ),
    Case(
        "nested field added with default",
        score(field("home", "int")),
        score(field("home", "int"), field("away", "int", default=0)),
        [],
        {"score": {"home": 1}},
    ),
    Case(
        "logical type kept",
        one(logical("long", "timestamp-millis")),
        one(logical("long", "timestamp-millis")),
        [],
        {"f": 1000},
    ),
    Case("fixed kept", one(fixed(4)), one(fixed(4)), [], {"f": b"abcd"}),
    Case(
        "named type references",
        teams("string"),
        teams("bytes"),
        [],
        {"home": {"id": "x"}, "away": {"id": "y"}, "other": {"id": "z"}},
    ),
    Case(
        "recursive type, field added with default",
        linked_list("int"),
        linked_list("int", field("label", "string", default="")),
        [],
        {"value": 1, "next": {"value": 2, "next": None}},
    ),
]

REJECTED = [
    Case(
        "field added without default",
        one("int"),
        record(field("f", "int"), field("g", "string")),
        [("R.g", MISSING_DEFAULT)],
    ),
    Case("string -> int", one("string"), one("int"), [("R.f", TYPE)]),
    Case("long -> int", one("long"), one("int"), [("R.f", TYPE)]),
    Case("double -> float", one("double"), one("float"), [("R.f", TYPE)]),
    Case(
        "record -> array",
        one(record(name="X")),
        one({"type": "array", "items": "int"}),
        [("R.f", TYPE)],
    ),
    Case("union narrowed to T", one(["null", "long"]), one("long"), [("R.f|null", TYPE)]),
    Case(
        "union branch removed",
        one(["null", "long", "string"]),
        one(["null", "long"]),
        [("R.f|string", "MISSING_UNION_BRANCH")],
    ),
    Case(
        "type not in reader union",
        one("string"),
        one(["null", "long"]),
        [("R.f", "MISSING_UNION_BRANCH")],
    ),
    Case(
        "enum symbol removed",
        one(enum("A", "B", "C")),
        one(enum("A", "B")),
        [("R.f", "MISSING_ENUM_SYMBOLS")],
    ),
    Case("enum renamed", one(enum("A")), one(enum("A", name="F")), [("R.f", "NAME_MISMATCH")]),
    Case(
        "record renamed", one("int"), record(field("f", "int"), name="S"), [("S", "NAME_MISMATCH")]
    ),
    Case("fixed resized", one(fixed(4)), one(fixed(8)), [("R.f", "FIXED_SIZE_MISMATCH")]),
    Case("fixed renamed", one(fixed(4)), one(fixed(4, name="Key")), [("R.f", "NAME_MISMATCH")]),
    Case(
        "nested field type changed",
        score(field("home", "int")),
        score(field("home", "string")),
        [("R.score.home", TYPE)],
    ),
    Case(
        "array items changed",
        record(field("teams", {"type": "array", "items": "string"})),
        record(field("teams", {"type": "array", "items": "int"})),
        [("R.teams[]", TYPE)],
    ),
    Case(
        "map values changed",
        record(field("attrs", {"type": "map", "values": "long"})),
        record(field("attrs", {"type": "map", "values": "int"})),
        [("R.attrs{}", TYPE)],
    ),
    Case(
        "logical type changed",
        one(logical("long", "timestamp-millis")),
        one(logical("long", "timestamp-micros")),
        [("R.f", TYPE)],
    ),
    Case(
        "decimal scale changed",
        one({**logical("bytes", "decimal"), "precision": 6, "scale": 0}),
        one({**logical("bytes", "decimal"), "precision": 6, "scale": 2}),
        [("R.f", TYPE)],
    ),
    Case(
        "record inside a union changed",
        one(["null", record(field("home", "int"), name="Score")]),
        one(["null", record(field("home", "string"), name="Score")]),
        [("R.f|Score.home", TYPE)],
    ),
    Case(
        "every problem, in reader field order",
        record(field("a", "string"), field("b", "int")),
        record(field("b", "string"), field("a", "int"), field("c", "int")),
        [("R.b", TYPE), ("R.a", TYPE), ("R.c", MISSING_DEFAULT)],
    ),
    Case(
        "named type changed, at each use",
        teams("string"),
        teams("int"),
        [("R.home.id", TYPE), ("R.away.id", TYPE), ("R.other.id", TYPE)],
    ),
    Case(
        "recursive type changed", linked_list("int"), linked_list("string"), [("Node.value", TYPE)]
    ),
]


def paths_and_rules(reader: object, writer: object) -> list[tuple[str, str]]:
    return [(i.path, i.rule) for i in reader_incompatibilities(reader, writer)]


@pytest.mark.parametrize("case", ACCEPTED + REJECTED, ids=lambda case: case.id)
def test_reader_incompatibilities(case: Case) -> None:
    assert paths_and_rules(case.reader, case.writer) == case.expected


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda case: case.id)
def test_fastavro_reads_what_the_checker_accepts(case: Case) -> None:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, case.writer, case.datum)
    buffer.seek(0)
    read = fastavro.schemaless_reader(buffer, case.writer, case.reader)
    assert isinstance(read, dict)
    assert set(read) == {f["name"] for f in case.reader["fields"]}


def test_messages_name_the_field_and_the_fix() -> None:
    [problem] = reader_incompatibilities(
        record(field("f", "int"), field("score", "int")), one("int")
    )
    assert problem.message.startswith("field 'score' ")
    assert problem.message.endswith("give it a default")


def test_top_level_types_need_not_be_records() -> None:
    assert paths_and_rules("long", "int") == []
    assert paths_and_rules("int", "long") == [("int", TYPE)]


def test_namespaces_are_inherited_by_nested_definitions() -> None:
    inner = record(field("y", enum("P", name="Y")), field("y2", "Y"), name="X", namespace="b")
    schema = record(field("x", inner), field("z", "b.Y"), namespace="a")
    assert reader_incompatibilities(schema, schema) == []
    unresolvable = record(field("x", inner), field("z", "Y"), namespace="a")
    with pytest.raises(ValueError, match="unknown Avro type 'Y'"):
        reader_incompatibilities(unresolvable, schema)


V1 = record(field("a", "int"))
V2 = record(field("a", "int"), field("b", "string", default=""))
V3 = record(field("a", "int"), field("b", "string"))  # reads V2, not V1
LONG_A = record(field("a", "long"))


@pytest.mark.parametrize(
    ("level", "released", "new", "expected"),
    [
        ("BACKWARD", [V1, V2], V3, []),
        ("BACKWARD_TRANSITIVE", [V1, V2], V3, [("R.b", MISSING_DEFAULT)]),
        ("FULL", [V1, V2], V3, []),
        ("FULL_TRANSITIVE", [V1, V2], V3, [("R.b", MISSING_DEFAULT)]),
        # Dropping b: V2 can do without it (default), V3 cannot.
        ("FORWARD", [V3, V2], V1, []),
        ("FORWARD_TRANSITIVE", [V3, V2], V1, [("R.b", MISSING_DEFAULT)]),
        ("BACKWARD", [V1], LONG_A, []),
        ("FORWARD", [V1], LONG_A, [("R.a", TYPE)]),
        ("FULL", [V1], LONG_A, [("R.a", TYPE)]),
        ("NONE", [V1], V3, []),
        ("BACKWARD_TRANSITIVE", [], V3, []),
        # The same problem against two versions is reported once.
        ("BACKWARD_TRANSITIVE", [V1, V1], V3, [("R.b", MISSING_DEFAULT)]),
    ],
)
def test_check(
    level: str, released: list[object], new: object, expected: list[tuple[str, str]]
) -> None:
    assert [(i.path, i.rule) for i in check(new, released, level)] == expected


def test_check_accepts_every_level_and_nothing_else() -> None:
    assert all(check(V1, [V1], level) == [] for level in LEVELS)
    with pytest.raises(
        ValueError, match=r"unknown compatibility level 'backward'.*FULL_TRANSITIVE"
    ):
        check(V1, [], "backward")
