import itertools

from fastavro import parse_schema
from fastavro.validation import validate

from flink_jobs.generator import EVENT_TYPES, GeneratorConfig, interactions
from flink_jobs.registry import schema_for_topic


def take(cfg: GeneratorConfig, n: int) -> list[dict[str, object]]:
    return list(itertools.islice(interactions(cfg), n))


def test_same_seed_same_events_other_seed_other_events() -> None:
    assert take(GeneratorConfig(seed=1), 200) == take(GeneratorConfig(seed=1), 200)
    assert take(GeneratorConfig(seed=1), 200) != take(GeneratorConfig(seed=2), 200)


def test_every_event_fits_the_registered_schema() -> None:
    schema = parse_schema(schema_for_topic("fan.interactions").schema())
    for event in take(GeneratorConfig(), 500):
        assert validate(event, schema, raise_errors=True)
        assert event["event_type"] in EVENT_TYPES
        assert int(str(event["watch_time_ms"])) >= 0


def test_disorder_stays_within_the_configured_bound() -> None:
    cfg = GeneratorConfig(out_of_order_share=0.2, max_disorder_ms=3000)
    newest = 0
    late = 0
    for event in take(cfg, 2000):
        time = int(str(event["event_time"]))
        assert time > newest - 3000 - 1000  # disorder plus one inter-arrival at most
        late += time < newest
        newest = max(newest, time)
    assert late > 0


def test_popularity_is_skewed_towards_few_contents() -> None:
    events = take(GeneratorConfig(contents=200), 5000)
    counts = sorted(
        (sum(1 for e in events if e["content_id"] == c) for c in {e["content_id"] for e in events}),
        reverse=True,
    )
    assert sum(counts[:20]) > 0.4 * len(events)  # top 10 % of contents: > 40 % of views
