"""The cross-check: a system's rows (here made up) against the reference, the store's newest
values, and the peer's per-event rows."""

from typing import Any

from benchmarks.correctness import Stored, check_rows, check_store, cutoff, expected, typed
from benchmarks.feature_sets import peer_features, peer_spec
from benchmarks.peer.rows import deriver, holds
from flink_jobs.features.catalogue import USER_ACTIVITY, USER_ENGAGEMENT_5M
from tests.integration.events import event

T0 = 1_767_225_600_000  # a minute boundary
MIN = 60_000


def _events() -> list[dict[str, Any]]:
    return [
        event("u1", T0, 1, "play", watch_ms=0),
        event("u1", T0, 30, "complete", watch_ms=400),
        event("u2", T0, 40, "view"),
        event("u1", T0, 70, "pause", watch_ms=100),  # the next minute
    ]


def test_the_reference_rows_of_sampled_entities_until_the_cutoff() -> None:
    want = expected(_events(), (USER_ACTIVITY,), lambda e: e == "u1", until_ms=T0 + MIN)
    assert want == {
        "user_activity": {
            ("u1", T0, T0 + MIN): {
                "user_interactions_count_1m": 2,
                "user_watch_ms_sum_1m": 400,
            }
        }
    }
    assert cutoff({0: T0 + 3 * MIN, 1: T0 + 2 * MIN}, 5_000, 30_000) == T0 + 2 * MIN - 35_000


def test_rows_agree_or_each_difference_is_named() -> None:
    want = expected(_events(), (USER_ACTIVITY,), lambda _e: True, T0 + MIN)["user_activity"]
    features = USER_ACTIVITY.features
    late_window = ("u1", T0 + MIN, T0 + 2 * MIN)
    same = {**want, late_window: {"user_interactions_count_1m": 1, "user_watch_ms_sum_1m": 5}}
    assert check_rows("peer", USER_ACTIVITY, features, same, want, T0 + MIN).ok
    wrong = {k: {**v, "user_watch_ms_sum_1m": 1} for k, v in want.items()}
    del wrong[("u2", T0, T0 + MIN)]
    verdict = check_rows("peer", USER_ACTIVITY, features, wrong, want, T0 + MIN, duplicates=2)
    assert not verdict.ok
    assert verdict.problems == [
        f"missing ('u2', {T0}, {T0 + MIN})",
        f"('u1', {T0}, {T0 + MIN}) user_watch_ms_sum_1m: 1 != 400",
        "2 windows written more than once",
    ]
    assert not check_rows("peer", USER_ACTIVITY, features, {}, {}, T0).ok  # nothing compared


def test_the_store_holds_the_newest_window_with_its_values() -> None:
    want = expected(_events(), (USER_ACTIVITY,), lambda _e: True, T0 + MIN)["user_activity"]
    features = USER_ACTIVITY.features
    fresh = {
        "u1": (T0, T0 + MIN, {"user_interactions_count_1m": typed("2"),
                              "user_watch_ms_sum_1m": typed("400")}),
        "u2": (T0 + MIN, T0 + 2 * MIN, {}),  # newer than any compared window: fine
    }  # fmt: skip
    assert check_store("project", USER_ACTIVITY, features, fresh, want).ok
    stale: Stored = {"u1": (T0 - MIN, T0, {})}
    assert check_store("project", USER_ACTIVITY, features, stale, want).problems == [
        f"u1: stored window ends {T0}, want {T0 + MIN} or later",
        f"u2: nothing stored, want the window ending {T0 + MIN}",
    ]


def test_the_peer_rows_carry_each_feature_column_or_none() -> None:
    derive = deriver(peer_spec())
    row = derive(event("u1", T0, 1, "play", watch_ms=0))
    assert row["event_time"] == T0 + 1000
    assert row["user_engagement_5m.user_plays_count_5m"] == 1
    assert row["user_engagement_5m.user_views_count_5m"] is None
    assert row["user_engagement_5m.user_watch_ms_avg_5m"] is None  # filter: watch_time_ms > 0
    assert row["user_activity.user_watch_ms_sum_1m"] == 0
    assert {f.name for f in peer_features(USER_ENGAGEMENT_5M)} <= {
        k.split(".", 1)[1] for k in row if "." in k
    }
    assert holds({"a": "x"}, [["a", "IN", ["x", "y"]], ["a", "IS NOT NULL", None]])
    assert not holds({"a": None}, [["a", "<>", "x"]])
    assert typed("1.5") == 1.5 and typed("u1") == "u1"
