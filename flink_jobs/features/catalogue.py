"""The feature catalogue: every feature group the platform computes, as data.

A released group version (its definition snapshot in flink_jobs/features/released/) must
never change: change a definition by adding the group with the next version.
"""

from __future__ import annotations

from datetime import timedelta

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
)

MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

INTERACTIONS = Source(
    topic="fan.interactions",
    required=("event_id", "user_id", "content_id", "session_id"),
    non_negative=("watch_time_ms", "position_ms"),
    one_of=(  # as the schema documents them
        ("event_type", ("view", "play", "pause", "resume", "complete", "click", "like", "share")),
        ("content_type", ("video", "clip", "article", "live_stream")),
        ("device", ("ios", "android", "web", "tv", "console")),
        ("app_surface", ("home", "search", "game_center", "team_page", "player", "notification")),
    ),
)

VIEWS = (Where("event_type", Op.EQ, "view"),)
PLAYS = (Where("event_type", Op.EQ, "play"),)
COMPLETES = (Where("event_type", Op.EQ, "complete"),)
PLAYBACK = (Where("watch_time_ms", Op.GT, 0),)
REACTIONS = (Where("event_type", Op.IN, ("like", "share")),)


USER_ACTIVITY = FeatureGroup(
    name="user_activity",
    version=1,
    doc="Per user and 1-minute tumbling event-time window.",
    source=INTERACTIONS,
    entity="user_id",
    keys=("user_id",),
    window=Tumbling(MIN),
    ttl=DAY,
    features=(
        Feature("user_interactions_count_1m", Agg.COUNT, "Interactions of the fan in the window."),
        Feature(
            "user_watch_ms_sum_1m",
            Agg.SUM,
            "Milliseconds of playback in the window.",
            "watch_time_ms",
        ),
    ),
)

USER_ENGAGEMENT_5M = FeatureGroup(
    name="user_engagement_5m",
    version=1,
    doc="Per user: the last 5 minutes, updated every minute (hopping window).",
    source=INTERACTIONS,
    entity="user_id",
    keys=("user_id",),
    window=Hopping(size=5 * MIN, slide=MIN),
    ttl=10 * MIN,
    features=(
        Feature("user_views_count_5m", Agg.COUNT, "Views started.", where=VIEWS),
        Feature("user_plays_count_5m", Agg.COUNT, "Playbacks started.", where=PLAYS),
        Feature("user_watch_ms_sum_5m", Agg.SUM, "Milliseconds watched.", "watch_time_ms"),
        Feature(
            "user_watch_ms_avg_5m",
            Agg.AVG,
            "Mean milliseconds watched per event with playback.",
            "watch_time_ms",
            where=PLAYBACK,
        ),
        Feature("user_content_distinct_5m", Agg.COUNT_DISTINCT, "Distinct content.", "content_id"),
    ),
)

USER_ENGAGEMENT_1H = FeatureGroup(
    name="user_engagement_1h",
    version=1,
    doc="Per user and clock hour (tumbling window).",
    source=INTERACTIONS,
    entity="user_id",
    keys=("user_id",),
    window=Tumbling(HOUR),
    ttl=2 * HOUR,
    features=(
        Feature("user_views_count_1h", Agg.COUNT, "Views started.", where=VIEWS),
        Feature("user_plays_count_1h", Agg.COUNT, "Playbacks started.", where=PLAYS),
        Feature("user_completes_count_1h", Agg.COUNT, "Playbacks completed.", where=COMPLETES),
        Feature(
            "user_completion_rate_1h",
            Agg.RATIO,
            "Completed playbacks per playback started.",
            ratio_of=("user_completes_count_1h", "user_plays_count_1h"),
        ),
        Feature("user_watch_ms_sum_1h", Agg.SUM, "Milliseconds watched.", "watch_time_ms"),
        Feature("user_watch_ms_max_1h", Agg.MAX, "Longest playback stretch.", "watch_time_ms"),
        Feature(
            "user_watch_ms_stddev_1h",
            Agg.STDDEV,
            "Population standard deviation of playback stretches.",
            "watch_time_ms",
            where=PLAYBACK,
        ),
        Feature("user_content_distinct_1h", Agg.COUNT_DISTINCT, "Distinct content.", "content_id"),
        Feature("user_sports_distinct_1h", Agg.COUNT_DISTINCT, "Distinct sports.", "sport"),
        Feature("user_sessions_count_1h", Agg.COUNT_DISTINCT, "App sessions.", "session_id"),
        Feature(
            "user_last_content_ids_1h",
            Agg.LAST_N,
            "The 10 content ids seen most recently, newest first.",
            "content_id",
            n=10,
        ),
        Feature("user_top_sports_1h", Agg.TOP_K, "The 3 most frequent sports.", "sport", k=3),
        Feature("user_top_leagues_1h", Agg.TOP_K, "The 3 most frequent leagues.", "league", k=3),
        Feature("user_last_device_1h", Agg.LATEST, "Device of the latest event.", "device"),
        Feature(
            "user_first_surface_1h", Agg.EARLIEST, "App surface of the first event.", "app_surface"
        ),
    ),
)

USER_TODAY = FeatureGroup(
    name="user_today",
    version=1,
    doc="Per user: the UTC day so far, updated every hour (cumulative window).",
    source=INTERACTIONS,
    entity="user_id",
    keys=("user_id",),
    window=Cumulative(size=DAY, step=HOUR),
    ttl=2 * HOUR,
    features=(
        Feature("user_watch_ms_sum_today", Agg.SUM, "Milliseconds watched today.", "watch_time_ms"),
        Feature("user_views_count_today", Agg.COUNT, "Views started today.", where=VIEWS),
        Feature(
            "user_content_approx_distinct_today",
            Agg.APPROX_DISTINCT,
            "Distinct content today (HLL, lg_k 12: 1.6% relative error, one sigma).",
            "content_id",
            lg_k=12,
        ),
    ),
)

USER_SESSION = FeatureGroup(
    name="user_session",
    version=1,
    doc="Per user and viewing session: events closer than 30 minutes (session window).",
    source=INTERACTIONS,
    entity="user_id",
    keys=("user_id",),
    window=Session(gap=30 * MIN),
    ttl=DAY,
    features=(
        Feature("session_events_count", Agg.COUNT, "Events in the session."),
        Feature("session_watch_ms_sum", Agg.SUM, "Milliseconds watched.", "watch_time_ms"),
        Feature("session_content_distinct", Agg.COUNT_DISTINCT, "Distinct content.", "content_id"),
    ),
)

CONTENT_TRENDING = FeatureGroup(
    name="content_trending",
    version=1,
    doc="Per content: the last 10 minutes, updated every minute (hopping window).",
    source=INTERACTIONS,
    entity="content_id",
    keys=("content_id",),
    window=Hopping(size=10 * MIN, slide=MIN),
    ttl=5 * MIN,
    features=(
        Feature("content_views_count_10m", Agg.COUNT, "Views started.", where=VIEWS),
        Feature(
            "content_viewers_approx_distinct_10m",
            Agg.APPROX_DISTINCT,
            "Distinct viewers (HLL, lg_k 12).",
            "user_id",
            lg_k=12,
        ),
        Feature(
            "content_watch_ms_p50_10m",
            Agg.PERCENTILE,
            "Median playback stretch (KLL sketch).",
            "watch_time_ms",
            where=PLAYBACK,
            fraction=0.5,
        ),
        Feature(
            "content_watch_ms_p90_10m",
            Agg.PERCENTILE,
            "90th percentile playback stretch (KLL sketch).",
            "watch_time_ms",
            where=PLAYBACK,
            fraction=0.9,
        ),
        Feature(
            "content_popularity_decay_10m",
            Agg.DECAY_SUM,
            "Views decayed with a 5-minute half-life, as of the latest view.",
            where=VIEWS,
            half_life=5 * MIN,
        ),
    ),
)

GAME_ENGAGEMENT = FeatureGroup(
    name="game_engagement",
    version=1,
    doc="Per live game and minute, from fans' interactions with the game's content.",
    source=INTERACTIONS,
    entity="game_id",
    keys=("game_id",),
    where=(Where("game_id", Op.NOT_NULL),),
    window=Tumbling(MIN),
    ttl=5 * MIN,
    features=(
        Feature(
            "game_viewers_approx_distinct_1m",
            Agg.APPROX_DISTINCT,
            "Fans engaged in the minute: a proxy of concurrent viewers (HLL, lg_k 12).",
            "user_id",
            lg_k=12,
        ),
        Feature("game_interactions_count_1m", Agg.COUNT, "Interactions in the minute."),
        Feature("game_reactions_count_1m", Agg.COUNT, "Likes and shares.", where=REACTIONS),
        Feature("game_watch_ms_sum_1m", Agg.SUM, "Milliseconds watched.", "watch_time_ms"),
    ),
)

USER_TEAM_AFFINITY = FeatureGroup(
    name="user_team_affinity",
    version=1,
    doc="Per fan and team, over the fan's whole history (lifetime, 90-day state TTL).",
    source=INTERACTIONS,
    entity="user_team",
    keys=("user_id", "team_id"),
    explode=("team_ids", "team_id"),
    window=Lifetime(state_ttl=90 * DAY),
    ttl=90 * DAY,
    features=(
        Feature(
            "user_team_affinity_decay",
            Agg.DECAY_SUM,
            "Interactions with the team's content, decayed with a 7-day half-life.",
            half_life=7 * DAY,
        ),
        Feature("user_team_interactions_count", Agg.COUNT, "Interactions with the team's content."),
        Feature(
            "user_team_watch_ms_sum",
            Agg.SUM,
            "Milliseconds of the team's content watched.",
            "watch_time_ms",
        ),
        Feature(
            "user_team_last_content", Agg.LATEST, "Latest content about the team.", "content_id"
        ),
    ),
)

CATALOGUE: tuple[FeatureGroup, ...] = (
    USER_ACTIVITY,
    USER_ENGAGEMENT_5M,
    USER_ENGAGEMENT_1H,
    USER_TODAY,
    USER_SESSION,
    CONTENT_TRENDING,
    GAME_ENGAGEMENT,
    USER_TEAM_AFFINITY,
)
