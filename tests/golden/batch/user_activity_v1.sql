CREATE TEMPORARY VIEW `user_activity_v1_input` AS
SELECT `user_id`, `watch_time_ms`, `event_time`
FROM `fan_interactions_events`;

INSERT INTO `user_activity_v1_sink`
SELECT
  `user_id` AS `user_id`,
  `window_start` AS `window_start`,
  `window_end` AS `window_end`,
  `user_interactions_count_1m` AS `user_interactions_count_1m`,
  `user_watch_ms_sum_1m` AS `user_watch_ms_sum_1m`
FROM (
  SELECT `user_id`, `window_start`, `window_end`,
    COUNT(*) AS `user_interactions_count_1m`,
    SUM(`watch_time_ms`) AS `user_watch_ms_sum_1m`
  FROM TABLE(TUMBLE(TABLE `user_activity_v1_input`, DESCRIPTOR(`event_time`), INTERVAL '1' MINUTE))
  GROUP BY `user_id`, `window_start`, `window_end`);

