"""The feature queries. User activity: per user, 1-minute tumbling windows in event time."""

from __future__ import annotations

USER_ACTIVITY_TOPIC = "features.user_activity.v1"  # its schema: schemas/<topic>-value.avsc


def user_activity_query(source: str) -> str:
    """Count and total watch time per user and minute; rows come when the watermark closes a window.

    The window table-valued function emits each window once (insert-only) and frees its state.
    """
    return f"""SELECT
  user_id,
  window_start,
  window_end,
  COUNT(*) AS user_interactions_count_1m,
  SUM(watch_time_ms) AS user_watch_ms_sum_1m
FROM TABLE(TUMBLE(TABLE `{source}`, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))
GROUP BY user_id, window_start, window_end"""  # noqa: S608 - `source` is our own table name
