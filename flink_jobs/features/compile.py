"""Feature definitions -> Flink SQL, for streaming and for batch.

The dataflow per source: `<src>_decoded` (made by flink_jobs.sources: every Avro field plus
`_error`, the origin columns and `event_time` with its watermark) -> `<src>_checked` (the
reason a row is invalid, if it is) -> dead letters | `<src>_events` (valid, deduplicated).
Deduplication keeps the first delivery in processing time (`_proc_time`): it is emitted at
once, so the watermark the late check sees is the one the event arrived with. (Ordering by
event time would hold each event until the watermark passes it and drop late ones silently.)
Per group: `<group>_rows` (its filter, exploded keys, and in streaming whether the row is
late) -> late topic | `<group>_input` -> the aggregation, written to `<group>_sink`.

A row is late when the first window that would hold it has already closed (its end - 1 ms
is at or behind the watermark). Late rows count in no window of the group: they go to the
group's late topic. Filtering them explicitly, with the same watermark the window
operator sees (or one ahead of it), makes "late" a documented property of the event log
instead of an operator's silent drop. Batch mode has no watermark and no late rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from flink_jobs.features.model import (
    Agg,
    Cumulative,
    Feature,
    FeatureGroup,
    Hopping,
    Lifetime,
    Op,
    Session,
    Source,
    Tumbling,
    Where,
    Window,
)

EPOCH = "TIMESTAMP '1970-01-01 00:00:00'"
ORIGIN = ("_value", "_topic", "_partition", "_offset", "_kafka_ts")
PERCENTILE_K = 200  # KLL sketch size: normalized rank error ~1.33% (DataSketches)


# Every group reads the same decoded, checked, deduplicated events: with these options the
# planner builds that shared part once (one Kafka scan, one decode, one dedup state) instead
# of once per sink. Without them, views that call non-deterministic functions (PROCTIME,
# METER_RECORD) are planned again for every group.
PLANNER_OPTIONS = {"table.optimizer.reuse-optimize-block-with-digest-enabled": "true"}


class Mode(Enum):
    STREAMING = "streaming"
    BATCH = "batch"


@dataclass(frozen=True)
class Statement:
    """A view to create, or a query to insert into a sink table."""

    name: str
    query: str
    sink: bool = False

    def sql(self) -> str:
        if self.sink:
            return f"INSERT INTO `{self.name}`\n{self.query}"
        return f"CREATE TEMPORARY VIEW `{self.name}` AS\n{self.query}"


def render(statements: list[Statement]) -> str:
    return "".join(f"{s.sql()};\n\n" for s in statements)


def q(name: str) -> str:
    return f"`{name}`"


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds()) // 60


def interval(span: timedelta) -> str:
    """A whole-minute span in its largest whole unit: INTERVAL '1' DAY, '90' MINUTE..."""
    minutes = _minutes(span)
    for unit, size in (("DAY", 1440), ("HOUR", 60), ("MINUTE", 1)):
        if minutes % size == 0:
            n = minutes // size
            precision = f"({len(str(n))})" if n >= 100 else ""  # SQL's default is 2 digits
            return f"INTERVAL '{n}' {unit}{precision}"
    raise ValueError(span)


def _literal(value: str | int) -> str:
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"


def predicate(where: Where) -> str:
    column = q(where.column)
    if where.op is Op.NOT_NULL:
        return f"{column} IS NOT NULL"
    if isinstance(where.value, tuple):
        return f"{column} IN ({', '.join(_literal(v) for v in where.value)})"
    if where.value is None:
        raise ValueError(f"{where}: {where.op.value} needs a value")
    return f"{column} {where.op.value} {_literal(where.value)}"


def _conjunction(where: tuple[Where, ...]) -> str:
    return " AND ".join(predicate(w) for w in where)


def metered(condition: str, kind: str, source: str, detail: str) -> str:
    """`condition`, counting the rows that meet it in the `records` metric. A CASE, because
    Flink evaluates both sides of an AND: the counter must see only the rows that match."""
    count = f"METER_RECORD('{kind}', '{source}', {detail})"
    return f"CASE WHEN {condition} THEN {count} ELSE FALSE END"


# --- per source --------------------------------------------------------------------------


def source_statements(source: Source, fields: list[str], mode: Mode) -> list[Statement]:
    """Validation, dead letters (streaming) and deduplication of one source's rows."""
    s = source.name
    checks = ["WHEN `_error` IS NOT NULL THEN `_error`"]
    checks += [f"WHEN {q(c)} = '' THEN 'missing:{c}'" for c in source.required]
    checks += [f"WHEN {q(c)} < 0 THEN 'negative:{c}'" for c in source.non_negative]
    checks += [
        f"WHEN {q(c)} NOT IN ({', '.join(_literal(v) for v in values)}) THEN 'invalid:{c}'"
        for c, values in source.one_of
    ]
    future = f"CAST(`_kafka_ts` AS TIMESTAMP(3)) + INTERVAL '{_minutes(source.max_future)}' MINUTE"
    checks.append(f"WHEN `_claimed_time` > {future} THEN 'future_event_time'")
    cases = "\n    ".join(checks)
    statements = [
        Statement(
            f"{s}_checked",
            f"SELECT *,\n  CASE\n    {cases}\n  END AS `_reject`\nFROM `{s}_decoded`",
        )
    ]
    if mode is Mode.STREAMING:
        statements.append(
            Statement(
                f"{s}_dlq",
                "SELECT `_value` AS `original`, `_reject` AS `reason`,\n"
                "  `_topic` AS `source_topic`, `_partition` AS `source_partition`,\n"
                "  `_offset` AS `source_offset`,\n"
                "  CAST(`_kafka_ts` AS TIMESTAMP(3)) AS `source_timestamp`\n"
                f"FROM `{s}_checked`\n"
                "WHERE "
                + metered("`_reject` IS NOT NULL", "dead_letter", source.topic, "`_reject`"),
                sink=True,
            )
        )
    columns = ", ".join(q(c) for c in (*fields, *ORIGIN))
    kind = f"{q(source.kind_column)}" if source.kind_column else "''"
    statements.append(
        Statement(
            f"{s}_events",
            f"SELECT {columns}\nFROM (\n  SELECT *, ROW_NUMBER() OVER (\n"
            f"    PARTITION BY {q(source.dedup_key)} ORDER BY `_proc_time`) AS `_rn`\n"
            f"  FROM `{s}_checked`\n"
            f"  WHERE {metered('`_reject` IS NULL', 'read', source.topic, kind)})\n"
            "WHERE `_rn` = 1",
        )
    )
    return statements


# --- per group ---------------------------------------------------------------------------


def slice_end(window: Window, event_time: str) -> str:
    """SQL for the end of the first window that would hold a row at `event_time`."""
    if isinstance(window, Session):
        return f"{event_time} + {interval(window.gap)}"
    return tile_end(window.slice, event_time)


def tile_end(tile: timedelta, event_time: str) -> str:
    """SQL for the end of the whole-minute `tile` (aligned to the epoch) holding `event_time`."""
    g = _minutes(tile)
    m = f"TIMESTAMPDIFF(MINUTE, {EPOCH}, {event_time})"
    return f"TIMESTAMPADD(MINUTE, {m} - MOD({m}, {g}) + {g}, {EPOCH})"


def _needed_columns(group: FeatureGroup) -> list[str]:
    used = [f.column for f in group.features if f.column is not None]
    used += [w.column for f in group.features for w in f.where]
    return [c for c in dict.fromkeys(used) if c != group.entity]


def group_statements(group: FeatureGroup, mode: Mode) -> list[Statement]:
    g, et = group.table, q(group.source.event_time)
    events = f"`{group.source.name}_events`"
    if group.explode is not None:
        array, element = group.explode
        events += f" CROSS JOIN UNNEST({q(array)}) AS `_x` ({q(element)})"
    # The entity is one column from here on: the aggregation's key is exactly the sink's key
    # (a lifetime group's upsert topic then gets updates, never retractions).
    entity = q(group.entity)
    entity_column = entity if group.keys == (group.entity,) else f"{_entity(group)} AS {entity}"
    names = [entity, *(q(c) for c in _needed_columns(group)), et]
    columns = [entity_column, *names[1:]]
    where = f"\nWHERE {_conjunction(group.where)}" if group.where else ""
    if mode is Mode.BATCH:
        statements = [Statement(f"{g}_input", f"SELECT {', '.join(columns)}\nFROM {events}{where}")]
    else:
        closed = f"{slice_end(group.window, et)} - INTERVAL '0.001' SECOND"
        late = f"COALESCE({closed} <= CURRENT_WATERMARK({et}), FALSE)"
        origin = ", ".join(q(c) for c in ORIGIN)
        statements = [
            Statement(
                f"{g}_rows",
                f"SELECT {', '.join(columns)}, {origin},\n  {late} AS `_late`,\n"
                f"  CURRENT_WATERMARK({et}) AS `_watermark`\nFROM {events}{where}",
            ),
            Statement(
                f"{g}_input", f"SELECT {', '.join(names)}\nFROM `{g}_rows`\nWHERE NOT `_late`"
            ),
            Statement(
                f"{g}_late",
                f"SELECT '{group.name}' AS `feature_group`, {group.version} AS `version`,\n"
                f"  {entity} AS `entity`, {et} AS `event_time`,\n"
                "  `_watermark` AS `watermark`,\n"
                "  `_topic` AS `source_topic`, `_partition` AS `source_partition`,\n"
                "  `_offset` AS `source_offset`, `_value` AS `original`\n"
                f"FROM `{g}_rows`\n"
                f"WHERE {metered('`_late`', 'late', group.source.topic, _literal(group.name))}",
                sink=True,
            ),
        ]
    statements.append(Statement(f"{g}_sink", aggregation(group, mode), sink=True))
    return statements


def _entity(group: FeatureGroup) -> str:
    return " || ':' || ".join(q(k) for k in group.keys)


def _filter(where: tuple[Where, ...]) -> str:
    return f" FILTER (WHERE {_conjunction(where)})" if where else ""


@dataclass(frozen=True)
class Aggregates:
    """The aggregate calls of a group (`inner`) and each feature as an expression over them."""

    inner: list[tuple[str, str]]
    outer: list[tuple[str, str]]


def _value(feature: Feature, cast: str | None = None) -> str:
    if feature.column is None:
        return "1.0"
    return f"CAST({q(feature.column)} AS {cast})" if cast else q(feature.column)


def _half_life_ms(feature: Feature) -> int:
    if feature.half_life is None:
        raise ValueError(f"{feature.name}: decay_sum needs a half_life")
    return int(feature.half_life.total_seconds() * 1000)


def _call(f: Feature, et: str) -> str:
    """The aggregate call of a feature (RATIO and PERCENTILE are built by `aggregates`).

    Exact distinct counts are EXACT_DISTINCT, not COUNT(DISTINCT): Flink keeps a
    COUNT(DISTINCT) in a RocksDB MapView whose clear() on every window close seeks past the
    tombstones of the windows closed before (the built-in groups did not drain 300k events
    of 100k users in 8 minutes; with EXACT_DISTINCT, 32 s); EXACT_DISTINCT keeps one value
    per window and slice (benchmarks/results/udf-cost.md compares the two). Batch planning
    cannot mix COUNT(DISTINCT) with Java aggregates in one window aggregation either."""
    match f.agg:
        case Agg.COUNT:
            return "COUNT(*)"
        case Agg.SUM | Agg.MIN | Agg.MAX:
            return f"{f.agg.name}({_value(f)})"
        case Agg.AVG:
            return f"AVG({_value(f, 'DOUBLE')})"
        case Agg.VARIANCE:
            return f"VAR_POP({_value(f, 'DOUBLE')})"
        case Agg.STDDEV:
            return f"STDDEV_POP({_value(f, 'DOUBLE')})"
        case Agg.COUNT_DISTINCT:
            return f"EXACT_DISTINCT({_value(f)})"
        case Agg.APPROX_DISTINCT:
            return f"APPROX_DISTINCT({_value(f)}, {f.lg_k})"
        case Agg.EARLIEST | Agg.LATEST:
            return f"{f.agg.name}({_value(f)}, {et})"
        case Agg.LAST_N:
            return f"LAST_N_DISTINCT({_value(f)}, {et}, {f.n})"
        case Agg.TOP_K:
            return f"TOP_K({_value(f)}, {f.k})"
        case Agg.DECAY_SUM:
            return f"DECAY_SUM({_value(f, 'DOUBLE')}, {et}, {_half_life_ms(f)})"
    raise ValueError(f"{f.name}: {f.agg.value} is not a single aggregate call")


def aggregates(group: FeatureGroup) -> Aggregates:
    inner: list[tuple[str, str]] = []
    outer: list[tuple[str, str]] = []
    sketches: dict[tuple[str | None, tuple[Where, ...]], list[Feature]] = {}
    et = q(group.source.event_time)
    for f in group.features:
        if f.agg is Agg.RATIO and f.ratio_of is not None:
            num, den = (q(n) for n in f.ratio_of)
            outer.append((f.name, f"CAST({num} AS DOUBLE) / NULLIF(CAST({den} AS DOUBLE), 0)"))
        elif f.agg is Agg.PERCENTILE:
            sketches.setdefault((f.column, f.where), []).append(f)
        else:
            inner.append((f.name, _call(f, et) + _filter(f.where)))
            outer.append((f.name, q(f.name)))
    for i, ((column, where), features) in enumerate(sketches.items()):
        alias = f"_quantiles{i}"
        fractions = ",".join(str(f.fraction) for f in features)
        value = f"CAST({q(column or '')} AS DOUBLE)"
        inner.append(
            (alias, f"APPROX_PERCENTILES({value}, '{fractions}', {PERCENTILE_K}){_filter(where)}")
        )
        outer.extend((f.name, f"{q(alias)}[{j + 1}]") for j, f in enumerate(features))
    order = [f.name for f in group.features]
    outer.sort(key=lambda item: order.index(item[0]))
    return Aggregates(inner, outer)


def _select(items: list[tuple[str, str]], indent: str = "  ") -> str:
    return ",\n".join(f"{indent}{expr} AS {q(name)}" for name, expr in items)


def _window_tvf(group: FeatureGroup, window: Window) -> str:
    table, et = f"TABLE `{group.table}_input`", q(group.source.event_time)
    match window:
        case Tumbling(size):
            return f"TUMBLE({table}, DESCRIPTOR({et}), {interval(size)})"
        case Hopping(size, slide):
            return f"HOP({table}, DESCRIPTOR({et}), {interval(slide)}, {interval(size)})"
        case Cumulative(size, step):
            return f"CUMULATE({table}, DESCRIPTOR({et}), {interval(step)}, {interval(size)})"
        case Session(gap):
            key = q(group.entity)
            return f"SESSION({table} PARTITION BY {key}, DESCRIPTOR({et}), {interval(gap)})"
    raise TypeError(f"{window} has no window table function")


def aggregation(group: FeatureGroup, mode: Mode) -> str:
    """The query whose rows are the group's feature records: entity, window, features."""
    aggs = aggregates(group)
    keys = q(group.entity)
    window = group.window
    bounds = "`window_start`, `window_end`"
    if isinstance(window, Lifetime):
        inner = _lifetime(group, window, aggs, mode)
    elif isinstance(window, Session) and mode is Mode.BATCH:
        inner = _batch_sessions(group, window, aggs)
    else:
        inner = (
            f"SELECT {keys}, {bounds},\n{_select(aggs.inner)}\n"
            f"FROM TABLE({_window_tvf(group, window)})\n"
            f"GROUP BY {keys}, {bounds}"
        )
    outer = [(group.entity, keys)] + [(b, q(b)) for b in ("window_start", "window_end")]
    inner_indented = "\n".join("  " + line for line in inner.splitlines())
    return f"SELECT\n{_select(outer + aggs.outer)}\nFROM (\n{inner_indented})"


def _batch_sessions(group: FeatureGroup, window: Session, aggs: Aggregates) -> str:
    """Sessions without a session window (batch has none): a new session starts at a row
    `gap` or more after the previous row of its key; ties share a session."""
    keys, et = q(group.entity), q(group.source.event_time)
    gap = interval(window.gap)
    return (
        f"SELECT {keys}, MIN({et}) AS `window_start`, MAX({et}) + {gap} AS `window_end`,\n"
        f"{_select(aggs.inner)}\n"
        "FROM (\n"
        f"  SELECT *, SUM(`_new`) OVER (PARTITION BY {keys} ORDER BY {et}\n"
        "    RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS `_session`\n"
        "  FROM (\n"
        f"    SELECT *, CASE WHEN LAG({et}) OVER (PARTITION BY {keys} ORDER BY {et})\n"
        f"      > {et} - {gap} THEN 0 ELSE 1 END AS `_new`\n"
        f"    FROM `{group.table}_input`))\n"
        f"GROUP BY {keys}, `_session`"
    )


MERGE = {Agg.COUNT: "SUM", Agg.SUM: "SUM", Agg.MIN: "MIN", Agg.MAX: "MAX"}
BY_TIME = {Agg.LATEST: "MAX", Agg.EARLIEST: "MIN", Agg.DECAY_SUM: "MAX"}


def _lifetime(group: FeatureGroup, window: Lifetime, aggs: Aggregates, mode: Mode) -> str:
    """Tiles (tumbling partial aggregates) merged into one unbounded row per key."""
    keys, et = q(group.entity), q(group.source.event_time)
    tile_items = [("_first", f"MIN({et})"), ("_last", f"MAX({et})")]
    merged = [("window_start", "MIN(`_first`)"), ("window_end", "MAX(`_last`)")]
    calls = dict(aggs.inner)
    for f in group.features:
        if f.agg is Agg.RATIO:
            continue
        tile_items.append((f.name, calls[f.name]))
        name = q(f.name)
        if f.agg in BY_TIME:
            tile_items.append((f"{f.name}__t", f"{BY_TIME[f.agg]}({et}){_filter(f.where)}"))
            t = q(f"{f.name}__t")
            decay = f", {_half_life_ms(f)}" if f.agg is Agg.DECAY_SUM else ""
            merged.append((f.name, f"{f.agg.name}({name}, {t}{decay})"))
        else:
            merged.append((f.name, f"{MERGE[f.agg]}({name})"))
    tiles = (
        f"SELECT {keys},\n{_select(tile_items, '    ')}\n"
        f"  FROM TABLE(TUMBLE(TABLE `{group.table}_input`, DESCRIPTOR({et}), "
        f"{interval(window.tile)}))\n"
        f"  GROUP BY {keys}, `window_start`, `window_end`"
    )
    hint = ""
    if mode is Mode.STREAMING:
        days = int(window.state_ttl.total_seconds() // 86400)
        hint = f"/*+ STATE_TTL('_tiles' = '{days} d') */ "
    return (
        f"SELECT {hint}{keys},\n{_select(merged)}\nFROM (\n  {tiles}) AS `_tiles`\nGROUP BY {keys}"
    )


def point_in_time(group: FeatureGroup) -> str:
    """Training rows (batch): each label (entity, `at`) of the view `labels` joined with the
    group's latest row valid at `at` (window end <= `at`, within the TTL), from the view
    `<group>_features`; NULL features when there is none."""
    features = ", ".join(q(f.name) for f in group.features)
    return (
        f"SELECT `entity`, `at`, `window_end` AS `feature_time`, {features}\n"
        "FROM (\n"
        f"  SELECT l.`entity`, l.`at`, f.*, ROW_NUMBER() OVER (\n"
        "    PARTITION BY l.`entity`, l.`at` ORDER BY f.`window_end` DESC) AS `_rn`\n"
        f"  FROM `labels` AS l LEFT JOIN `{group.table}_features` AS f\n"
        f"    ON f.{q(group.entity)} = l.`entity` AND f.`window_end` <= l.`at`\n"
        f"    AND f.`window_end` > l.`at` - {interval(group.ttl)})\n"
        "WHERE `_rn` = 1"
    )


def catalogue_statements(
    groups: tuple[FeatureGroup, ...],
    fields: dict[str, list[str]],
    mode: Mode,
    sources: tuple[Source, ...] = (),
) -> Iterator[Statement]:
    """Every statement of a job computing `groups`; `fields` are each source's columns.
    `sources` are read even when no group here needs them (engine v2's kinds do)."""
    by_topic = {s.topic: s for s in (*sources, *(g.source for g in groups))}
    for topic, source in by_topic.items():
        yield from source_statements(source, fields[topic], mode)
    for group in groups:
        yield from group_statements(group, mode)
