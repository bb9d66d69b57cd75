CREATE TEMPORARY VIEW `user_today_v1_input` AS
SELECT `user_id`, `watch_time_ms`, `content_id`, `event_type`, `event_time`
FROM `fan_interactions_events`;

INSERT INTO `user_today_v1_sink`
SELECT
  `user_id` AS `user_id`,
  `window_start` AS `window_start`,
  `window_end` AS `window_end`,
  `user_watch_ms_sum_today` AS `user_watch_ms_sum_today`,
  `user_views_count_today` AS `user_views_count_today`,
  `user_content_approx_distinct_today` AS `user_content_approx_distinct_today`
FROM (
  SELECT `user_id`, `window_start`, `window_end`,
    SUM(`watch_time_ms`) AS `user_watch_ms_sum_today`,
    COUNT(*) FILTER (WHERE `event_type` = 'view') AS `user_views_count_today`,
    APPROX_DISTINCT(`content_id`, 12) AS `user_content_approx_distinct_today`
  FROM TABLE(CUMULATE(TABLE `user_today_v1_input`, DESCRIPTOR(`event_time`), INTERVAL '1' HOUR, INTERVAL '1' DAY))
  GROUP BY `user_id`, `window_start`, `window_end`);

