CREATE TEMPORARY VIEW `user_session_v1_input` AS
SELECT `user_id`, `watch_time_ms`, `content_id`, `event_time`
FROM `fan_interactions_events`;

INSERT INTO `user_session_v1_sink`
SELECT
  `user_id` AS `user_id`,
  `window_start` AS `window_start`,
  `window_end` AS `window_end`,
  `session_events_count` AS `session_events_count`,
  `session_watch_ms_sum` AS `session_watch_ms_sum`,
  `session_content_distinct` AS `session_content_distinct`
FROM (
  SELECT `user_id`, MIN(`event_time`) AS `window_start`, MAX(`event_time`) + INTERVAL '30' MINUTE AS `window_end`,
    COUNT(*) AS `session_events_count`,
    SUM(`watch_time_ms`) AS `session_watch_ms_sum`,
    EXACT_DISTINCT(`content_id`) AS `session_content_distinct`
  FROM (
    SELECT *, SUM(`_new`) OVER (PARTITION BY `user_id` ORDER BY `event_time`
      RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS `_session`
    FROM (
      SELECT *, CASE WHEN LAG(`event_time`) OVER (PARTITION BY `user_id` ORDER BY `event_time`)
        > `event_time` - INTERVAL '30' MINUTE THEN 0 ELSE 1 END AS `_new`
      FROM `user_session_v1_input`))
  GROUP BY `user_id`, `_session`);

