CREATE TEMPORARY VIEW `game_engagement_v1_rows` AS
SELECT `game_id`, `user_id`, `watch_time_ms`, `event_type`, `event_time`, `_value`, `_topic`, `_partition`, `_offset`, `_kafka_ts`,
  COALESCE(TIMESTAMPADD(MINUTE, TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', `event_time`) - MOD(TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', `event_time`), 1) + 1, TIMESTAMP '1970-01-01 00:00:00') - INTERVAL '0.001' SECOND <= CURRENT_WATERMARK(`event_time`), FALSE) AS `_late`,
  CURRENT_WATERMARK(`event_time`) AS `_watermark`
FROM `fan_interactions_events`
WHERE `game_id` IS NOT NULL;

CREATE TEMPORARY VIEW `game_engagement_v1_input` AS
SELECT `game_id`, `user_id`, `watch_time_ms`, `event_type`, `event_time`
FROM `game_engagement_v1_rows`
WHERE NOT `_late`;

INSERT INTO `game_engagement_v1_late`
SELECT 'game_engagement' AS `feature_group`, 1 AS `version`,
  `game_id` AS `entity`, `event_time` AS `event_time`,
  `_watermark` AS `watermark`,
  `_topic` AS `source_topic`, `_partition` AS `source_partition`,
  `_offset` AS `source_offset`, `_value` AS `original`
FROM `game_engagement_v1_rows`
WHERE CASE WHEN `_late` THEN METER_RECORD('late', 'fan.interactions', 'game_engagement') ELSE FALSE END;

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

