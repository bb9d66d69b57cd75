CREATE TEMPORARY VIEW `user_engagement_5m_v1_input` AS
SELECT `user_id`, `watch_time_ms`, `content_id`, `event_type`, `event_time`
FROM `fan_interactions_events`;

INSERT INTO `user_engagement_5m_v1_sink`
SELECT
  `user_id` AS `user_id`,
  `window_start` AS `window_start`,
  `window_end` AS `window_end`,
  `user_views_count_5m` AS `user_views_count_5m`,
  `user_plays_count_5m` AS `user_plays_count_5m`,
  `user_watch_ms_sum_5m` AS `user_watch_ms_sum_5m`,
  `user_watch_ms_avg_5m` AS `user_watch_ms_avg_5m`,
  `user_content_distinct_5m` AS `user_content_distinct_5m`
FROM (
  SELECT `user_id`, `window_start`, `window_end`,
    COUNT(*) FILTER (WHERE `event_type` = 'view') AS `user_views_count_5m`,
    COUNT(*) FILTER (WHERE `event_type` = 'play') AS `user_plays_count_5m`,
    SUM(`watch_time_ms`) AS `user_watch_ms_sum_5m`,
    AVG(CAST(`watch_time_ms` AS DOUBLE)) FILTER (WHERE `watch_time_ms` > 0) AS `user_watch_ms_avg_5m`,
    EXACT_DISTINCT(`content_id`) AS `user_content_distinct_5m`
  FROM TABLE(HOP(TABLE `user_engagement_5m_v1_input`, DESCRIPTOR(`event_time`), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE))
  GROUP BY `user_id`, `window_start`, `window_end`);

