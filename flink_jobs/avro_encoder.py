"""Avro binary encoding compiled once per record schema, for the producer's hot path.

`compile_encoder(schema)` writes the source of one straight-line function for the schema
(a few statements per field, nested records and arrays inlined) and compiles it. That is
what makes it fast: at run time there is no walk over the schema, no call per field and no
dispatch on types, and the pieces go to a list (whose `append` CPython specializes) joined
once. Each value gets a cheap exact-class test that picks an inline fast path (a str, a
small int, a float); anything else (a larger long, a datetime, an int subclass, a wrong
type) goes to a helper that checks it fully and raises TypeError or ValueError naming the
field. Bytes are returned only once the whole record is encoded, never partially.

The body is what `fastavro.schemaless_writer` writes, byte for byte, without framing.
Supported: records (nested), string, bytes, int, long, boolean, float, double, arrays of
these, ["null", T] unions (either order) and long timestamp-millis (int milliseconds or an
aware datetime). Anything else is a ValueError at compile time, so that the caller can
fall back to fastavro.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

Encoder = Callable[[Mapping[str, Any]], bytes]

PRIMITIVES = frozenset({"string", "bytes", "int", "long", "boolean", "float", "double"})
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_FLOAT_MAX = 3.4028234663852886e38  # the largest finite float32
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_pack_float = struct.Struct("<f").pack
_pack_double = struct.Struct("<d").pack

# The one-byte zig-zag varints of -64..63, indexed by the value itself: negative indices
# count from the end, where the negative values are.
_ONE_BYTE = tuple(bytes([2 * n]) for n in range(64)) + tuple(
    bytes([-2 * n - 1]) for n in range(-64, 0)
)


def _varint(n: int) -> bytes:
    """The zig-zag varint of a value in the long range."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append(z & 0x7F | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def _wrong_type(value: object, field: str, expected: str) -> TypeError:
    if value is None:
        return TypeError(f"field {field!r} is not nullable: None where {expected} is expected")
    return TypeError(f"field {field!r}: expected {expected}, got {type(value).__name__}")


def _checked(value: object, field: str, expected: str, low: int, high: int) -> int:
    """An int (not a bool) within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong_type(value, field, expected)
    if not low <= value <= high:
        raise ValueError(f"field {field!r}: {value} is outside the {expected} range")
    return int(value)


def _int(value: object, field: str) -> bytes:
    if type(value) is int and _INT_MIN <= value <= _INT_MAX:
        return _varint(value)
    return _varint(_checked(value, field, "int", _INT_MIN, _INT_MAX))


def _long(value: object, field: str) -> bytes:
    if type(value) is int and _LONG_MIN <= value <= _LONG_MAX:
        return _varint(value)
    return _varint(_checked(value, field, "long", _LONG_MIN, _LONG_MAX))


def _timestamp_millis(value: object, field: str) -> bytes:
    """Int milliseconds since the epoch, or an aware datetime (floored to the millisecond)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"field {field!r}: a naive datetime is ambiguous, give it a tzinfo")
        value = (value - _EPOCH) // _MILLISECOND
    return _varint(_checked(value, field, "long timestamp-millis", _LONG_MIN, _LONG_MAX))


def _real(value: object, field: str, expected: str) -> float:
    """An int or float (not a bool) as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong_type(value, field, expected)
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"field {field!r}: {value} is too large for a {expected}") from None


def _float(value: object, field: str) -> bytes:
    try:
        return _pack_float(_real(value, field, "float"))
    except OverflowError:
        raise ValueError(f"field {field!r}: {value} is too large for a float") from None


def _double(value: object, field: str) -> bytes:
    return _pack_double(_real(value, field, "double"))


def _utf8(value: object, field: str) -> bytes:
    if not isinstance(value, str):
        raise _wrong_type(value, field, "string")
    return value.encode()


def _bytes(value: object, field: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise _wrong_type(value, field, "bytes")
    return bytes(value)


def _sequence(value: object, field: str) -> Sequence[Any]:
    if isinstance(value, str | bytes | bytearray) or not isinstance(value, Sequence):
        raise _wrong_type(value, field, "array")
    return value


def _mapping(value: object, field: str) -> None:
    """Nothing if the value is a mapping; `field` is empty for the top-level record."""
    if not isinstance(value, Mapping):
        if field:
            raise _wrong_type(value, field, "record")
        raise TypeError(f"a record must be a mapping, not {type(value).__name__}")


def _missing(exc: KeyError, prefix: str) -> ValueError:
    return ValueError(f"missing required field {prefix + str(exc.args[0])!r}")


def _resolve(schema: Any) -> tuple[str, Any]:
    """(kind, detail) of a type, one level deep; detail is the record schema, the array
    items or (index of null, other branch) of a union."""
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return schema, None
        raise ValueError(f"unsupported Avro type {schema!r}")  # a named type reference too
    if isinstance(schema, list):
        branches = [branch for branch in schema if branch != "null"]
        if len(schema) != 2 or len(branches) != 1 or isinstance(branches[0], list):
            raise ValueError(f"unsupported union {schema!r}: only [null, T] is supported")
        return "union", (schema.index("null"), branches[0])
    if not isinstance(schema, Mapping):
        raise ValueError(f"unsupported Avro schema {schema!r}")
    kind, logical = schema.get("type"), schema.get("logicalType")
    if logical is not None:
        if (kind, logical) != ("long", "timestamp-millis"):
            raise ValueError(f"unsupported logical type {logical!r} of {kind!r}")
        return "timestamp-millis", None
    if kind == "record":
        return "record", schema
    if kind == "array":
        return "array", schema["items"]
    if kind in PRIMITIVES:
        return kind, None
    raise ValueError(f"unsupported Avro type {kind!r}")


class _Source:
    """The lines of an encoder function appending bytes to the list `out`, and the field
    defaults they refer to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.defaults: dict[str, Any] = {}

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def put(self, indent: int, expr: str) -> None:
        self.emit(indent, f"out.append({expr})")

    @staticmethod
    def pick(fast: str, test: str, slow: str, var: str, field: str) -> str:
        """The fast expression if the test holds, else the helper that checks everything."""
        return f"{fast} if {test} else {slow}({var}, {field!r})"

    def length(self, indent: int, expr: str) -> None:
        """Lines appending the varint of a length or count."""
        self.emit(indent, f"n = {expr}")
        self.put(indent, "_ONE_BYTE[n] if n < 64 else _varint(n)")

    def prefixed(self, indent: int, expr: str) -> None:
        """Lines appending bytes after their length."""
        self.emit(indent, f"b = {expr}")
        self.length(indent, "len(b)")
        self.put(indent, "b")

    def record(
        self, schema: Mapping[str, Any], var: str, path: str, depth: int, indent: int
    ) -> None:
        """Lines encoding `var`, a record at nesting `depth`, its fields in `v<depth+1>`."""
        prefix = f"{path}." if path else ""
        self.emit(indent, f"if {var}.__class__ is not dict:")
        self.emit(indent + 1, f"_mapping({var}, {path!r})")
        # A missing key raises KeyError, turned here into a ValueError naming the field: a
        # try block costs nothing until something raises, unlike a test per field.
        self.emit(indent, "try:")
        field_var = f"v{depth + 1}"
        for field in schema["fields"]:
            name = field["name"]
            if "default" in field or _resolve(field["type"])[0] == "union":
                default = f"_default{len(self.defaults)}"
                self.defaults[default] = field.get("default")  # null for a union without one
                self.emit(indent + 1, f"{field_var} = {var}.get({name!r}, {default})")
            else:
                self.emit(indent + 1, f"{field_var} = {var}[{name!r}]")
            self.value(field["type"], field_var, prefix + name, depth + 1, indent + 1)
        self.emit(indent, "except KeyError as exc:")
        self.emit(indent + 1, f"raise _missing(exc, {prefix!r}) from None")

    def value(self, schema: Any, var: str, field: str, depth: int, indent: int) -> None:
        """Lines encoding `var`, a value of type `schema`."""
        kind, detail = _resolve(schema)
        if kind == "record":
            self.record(detail, var, field, depth, indent)
        elif kind == "union":
            null_index, branch = detail
            self.emit(indent, f"if {var} is None:")
            self.put(indent + 1, repr(_ONE_BYTE[null_index]))
            self.emit(indent, "else:")
            self.put(indent + 1, repr(_ONE_BYTE[1 - null_index]))
            self.value(branch, var, field, depth, indent + 1)
        elif kind == "array":
            item = f"v{depth + 1}"
            self.emit(indent, f"if {var}.__class__ is not list and {var}.__class__ is not tuple:")
            self.emit(indent + 1, f"{var} = _sequence({var}, {field!r})")
            self.emit(indent, f"if {var}:")  # one block: count, items; then the 0 ending it
            self.length(indent + 1, f"len({var})")
            self.emit(indent + 1, f"for {item} in {var}:")
            self.value(detail, item, f"{field}[]", depth + 1, indent + 2)
            self.put(indent, "b'\\x00'")
        elif kind == "string":
            utf8 = self.pick(f"{var}.encode()", f"{var}.__class__ is str", "_utf8", var, field)
            self.prefixed(indent, utf8)
        elif kind == "bytes":
            self.prefixed(indent, self.pick(var, f"{var}.__class__ is bytes", "_bytes", var, field))
        elif kind in ("int", "long"):
            small = f"{var}.__class__ is int and -64 <= {var} < 64"
            self.put(indent, self.pick(f"_ONE_BYTE[{var}]", small, f"_{kind}", var, field))
        elif kind == "timestamp-millis":  # never small: any long is the fast path
            long = f"{var}.__class__ is int and _LONG_MIN <= {var} <= _LONG_MAX"
            self.put(indent, self.pick(f"_varint({var})", long, "_timestamp_millis", var, field))
        elif kind == "boolean":
            self.emit(indent, f"if {var} is True:")
            self.put(indent + 1, "b'\\x01'")
            self.emit(indent, f"elif {var} is False:")
            self.put(indent + 1, "b'\\x00'")
            self.emit(indent, "else:")
            self.emit(indent + 1, f"raise _wrong_type({var}, {field!r}, 'boolean')")
        elif kind == "float":
            finite = f"{var}.__class__ is float and -_FLOAT_MAX <= {var} <= _FLOAT_MAX"
            self.put(indent, self.pick(f"_pack_float({var})", finite, "_float", var, field))
        else:
            exact = f"{var}.__class__ is float"
            self.put(indent, self.pick(f"_pack_double({var})", exact, "_double", var, field))


def compile_encoder(schema: Mapping[str, Any]) -> Encoder:
    """The Avro body encoder of a parsed record schema; ValueError naming an unsupported type."""
    if not isinstance(schema, Mapping) or schema.get("type") != "record":
        raise ValueError("unsupported schema: the top level must be a record")
    source = _Source()
    source.emit(0, "def encode(v0):")
    source.emit(1, "out = []")
    source.record(schema, "v0", "", 0, 1)
    source.emit(1, "return b''.join(out)")
    code = compile("\n".join(source.lines), f"<avro encoder {schema.get('name')}>", "exec")
    namespace = globals() | source.defaults  # the generated code calls the helpers above
    exec(code, namespace)  # noqa: S102 - our own source: the schema supplies only literals
    encode: Encoder = namespace["encode"]
    return encode
