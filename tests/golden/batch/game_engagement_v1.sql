CREATE TEMPORARY VIEW `game_engagement_v1_input` AS
SELECT `game_id`, `user_id`, `watch_time_ms`, `event_type`, `event_time`
FROM `fan_interactions_events`
WHERE `game_id` IS NOT NULL;

INSERT INTO `game_engagement_v1_sink`
SELECT
  `game_id` AS `game_id`,
  `window_start` AS `window_start`,
  `window_end` AS `window_end`,
  `game_viewers_approx_distinct_1m` AS `game_viewers_approx_distinct_1m`,
  `game_interactions_count_1m` AS `game_interactions_count_1m`,
  `game_reactions_count_1m` AS `game_reactions_count_1m`,
  `game_watch_ms_sum_1m` AS `game_watch_ms_sum_1m`
FROM (
  SELECT `game_id`, `window_start`, `window_end`,
    APPROX_DISTINCT(`user_id`, 12) AS `game_viewers_approx_distinct_1m`,
    COUNT(*) AS `game_interactions_count_1m`,
    COUNT(*) FILTER (WHERE `event_type` IN ('like', 'share')) AS `game_reactions_count_1m`,
    SUM(`watch_time_ms`) AS `game_watch_ms_sum_1m`
  FROM TABLE(TUMBLE(TABLE `game_engagement_v1_input`, DESCRIPTOR(`event_time`), INTERVAL '1' MINUTE))
  GROUP BY `game_id`, `window_start`, `window_end`);

