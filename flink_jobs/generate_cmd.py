"""`sportsfeat generate`: a seeded live-sports event stream, optional faults, to Kafka or a file."""

from __future__ import annotations

import time
from pathlib import Path

import click

from flink_jobs.errors import UserError
from flink_jobs.generator import MALFORMED_KINDS, TOPICS, Fault, GeneratorConfig, deliveries
from flink_jobs.generator.sink import Tally, to_file, to_kafka
from flink_jobs.settings import Settings

pass_settings = click.make_pass_decorator(Settings)
SHARE = click.FloatRange(0.0, 1.0)
MS = click.IntRange(1)


def _progress(line: str) -> None:
    click.echo(line, err=True)


KINDS = click.Choice([kind.value for kind in MALFORMED_KINDS])

# fmt: off
OPTIONS = [
    click.option("--seed", type=int, default=7, show_default=True,
                 help="Same seed and options: the same events, byte for byte."),
    click.option("--users", type=click.IntRange(1, 100_000_000), default=100_000,
                 show_default=True, help="Fans, a long tail; memory grows with active ones only."),
    click.option("--contents", type=click.IntRange(1, 1_000_000), default=10_000,
                 show_default=True, help="Videos, clips and articles; Zipf-like popularity."),
    click.option("--games", type=click.IntRange(0, 100_000), default=8, show_default=True,
                 help="Live games on live.game-events; fans' viewing bursts after scores."),
    click.option("--game-interval", type=click.FloatRange(0.001), default=600.0,
                 show_default=True, help="Seconds between the starts of consecutive games."),
    click.option("--rate", type=click.FloatRange(0.001), default=1000.0, show_default=True,
                 help="Fan events per simulated second, before bursts and the diurnal curve."),
    click.option("--count", type=click.IntRange(1),
                 help="Stop after this many events, all topics together [100000]."),
    click.option("--duration", type=click.FloatRange(0.001),
                 help="Or stop after this many simulated seconds."),
    click.option("--start-ms", type=int,
                 help="Simulated start, ms since the epoch [now minus the expected span]."),
    click.option("--diurnal/--flat", default=False, show_default=True,
                 help="Shape the rate by the hour of day (UTC): quiet nights, busy evenings."),
    click.option("--signal-share", type=SHARE, default=0.05, show_default=True,
                 help="Share of fan events that are signals (follows, notifications, search)."),
    click.option("--burst-share", type=click.FloatRange(0.0), default=0.3, show_default=True,
                 help="Extra game viewing after a period's score changes, relative to --rate."),
    click.option("--out-of-order-share", type=SHARE, default=0.0, show_default=True,
                 help="Events delivered late, but within --max-disorder-ms."),
    click.option("--mean-disorder-ms", type=MS, default=1000, show_default=True,
                 help="Mean of the exponential delay of out-of-order events."),
    click.option("--max-disorder-ms", type=MS, default=3000, show_default=True,
                 help="Cap of that delay: no event arrives more than this behind a newer one."),
    click.option("--late-share", type=SHARE, default=0.0, show_default=True,
                 help="Events delivered after the stream passed them by over --late-bound-ms."),
    click.option("--late-bound-ms", type=MS, default=5000, show_default=True,
                 help="The watermark bound late events exceed (the job's is 5000)."),
    click.option("--late-max-extra-ms", type=MS, default=60_000, show_default=True,
                 help="How far beyond the bound, at most (uniform)."),
    click.option("--duplicate-share", type=SHARE, default=0.0, show_default=True,
                 help="Events delivered twice (same event_id and seq)."),
    click.option("--duplicate-max-delay-ms", type=MS, default=2000, show_default=True,
                 help="The second copy follows the first within this (uniform)."),
    click.option("--malformed-share", type=SHARE, default=0.0, show_default=True,
                 help="fan.interactions events followed by a broken copy of themselves."),
    click.option("--malformed-kind", "malformed_kinds", type=KINDS, multiple=True,
                 help="Which breakage, repeatable [all]: the first three break the bytes, the "
                      "others are valid Avro with a value the schema docs forbid."),
    click.option("--partitions", type=click.IntRange(1, 1000), default=3, show_default=True,
                 help="Partitions of topics created now (existing topics stay as they are)."),
    click.option("--topic-prefix", default="", show_default=True,
                 help="Prepended to each topic; its <topic>-value subject must be registered."),
    click.option("--output", type=click.Choice(["kafka", "file"]), default="kafka",
                 show_default=True, help="kafka: Avro, registered schemas; file: JSON lines."),
    click.option("--path", type=click.Path(dir_okay=False, path_type=Path),
                 help="The JSON-lines file, with --output file."),
]
# fmt: on


def _with_options(command: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(OPTIONS):
        command = option(command)
    return command


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@_with_options
@pass_settings
def generate(
    settings: Settings, seed: int, users: int, contents: int, games: int, game_interval: float,
    rate: float, count: int | None, duration: float | None, start_ms: int | None, diurnal: bool,
    signal_share: float, burst_share: float, out_of_order_share: float, mean_disorder_ms: int,
    max_disorder_ms: int, late_share: float, late_bound_ms: int, late_max_extra_ms: int,
    duplicate_share: float, duplicate_max_delay_ms: int, malformed_share: float,
    malformed_kinds: tuple[str, ...], partitions: int, topic_prefix: str, output: str,
    path: Path | None,
) -> None:  # fmt: skip
    """Generate fan interactions, live game events and fan signals in event-time order.

    Seeded and reproducible, on a simulated clock: sessions, Zipf-like popularity, live
    games with viewing bursts, an optional diurnal curve, and optional faults (disorder,
    late events, duplicates, malformed records). Schemas are never registered here: run
    `sportsfeat schemas register` first.
    """
    if count is not None and duration is not None:
        raise click.UsageError("give --count or --duration, not both")
    if (output == "file") != (path is not None):
        raise click.UsageError("--path goes with --output file, and --output file needs --path")
    if count is None and duration is None:
        count = 100_000
    span_ms = int(1000 * (duration if duration is not None else (count or 0) / rate))
    try:
        cfg = GeneratorConfig(
            seed=seed, users=users, contents=contents, games=games,
            game_interval_ms=max(1, int(game_interval * 1000)),
            start_ms=int(time.time() * 1000) - span_ms if start_ms is None else start_ms,
            events_per_second=rate, signal_share=signal_share, burst_share=burst_share,
            diurnal=diurnal, count=count,
            duration_ms=None if duration is None else max(1, int(duration * 1000)),
            out_of_order_share=out_of_order_share, mean_disorder_ms=mean_disorder_ms,
            max_disorder_ms=max_disorder_ms, late_share=late_share, late_bound_ms=late_bound_ms,
            late_max_extra_ms=late_max_extra_ms, duplicate_share=duplicate_share,
            duplicate_max_delay_ms=duplicate_max_delay_ms, malformed_share=malformed_share,
            malformed_kinds=tuple(Fault(k) for k in malformed_kinds) or MALFORMED_KINDS,
        )  # fmt: skip
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    tally = Tally(_progress)
    if path is not None:
        to_file(deliveries(cfg), path, tally)
    else:
        _to_kafka(settings, cfg, topic_prefix, partitions, tally)
    click.echo(tally.summary())


def _to_kafka(
    settings: Settings, cfg: GeneratorConfig, prefix: str, partitions: int, tally: Tally
) -> None:
    from confluent_kafka import KafkaException

    from flink_jobs.producer import KafkaOut, WireEncoder
    from flink_jobs.topics import ensure_topics

    names = {topic: prefix + topic for topic in TOPICS}
    encoders = {t: WireEncoder.from_registry(settings.registry_url, n) for t, n in names.items()}
    try:
        ensure_topics(settings.kafka_bootstrap, list(names.values()), partitions)
    except KafkaException as exc:
        raise UserError(
            f"kafka at {settings.kafka_bootstrap} does not answer ({exc}): "
            "start the stack with `sportsfeat stack up`"
        ) from exc
    out = KafkaOut(settings.kafka_bootstrap)
    to_kafka(deliveries(cfg), encoders, out.send, names, tally)
    out.flush(timeout_s=60)
