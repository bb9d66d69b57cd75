CREATE TEMPORARY VIEW `user_engagement_5m_v1_rows` AS
SELECT `user_id`, `watch_time_ms`, `content_id`, `event_type`, `event_time`, `_value`, `_topic`, `_partition`, `_offset`, `_kafka_ts`,
  COALESCE(TIMESTAMPADD(MINUTE, TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', `event_time`) - MOD(TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', `event_time`), 1) + 1, TIMESTAMP '1970-01-01 00:00:00') - INTERVAL '0.001' SECOND <= CURRENT_WATERMARK(`event_time`), FALSE) AS `_late`,
  CURRENT_WATERMARK(`event_time`) AS `_watermark`
FROM `fan_interactions_events`;

CREATE TEMPORARY VIEW `user_engagement_5m_v1_input` AS
SELECT `user_id`, `watch_time_ms`, `content_id`, `event_type`, `event_time`
FROM `user_engagement_5m_v1_rows`
WHERE NOT `_late`;

INSERT INTO `user_engagement_5m_v1_late`
SELECT 'user_engagement_5m' AS `feature_group`, 1 AS `version`,
  `user_id` AS `entity`, `event_time` AS `event_time`,
  `_watermark` AS `watermark`,
  `_topic` AS `source_topic`, `_partition` AS `source_partition`,
  `_offset` AS `source_offset`, `_value` AS `original`
FROM `user_engagement_5m_v1_rows`
WHERE CASE WHEN `_late` THEN METER_RECORD('late', 'fan.interactions', 'user_engagement_5m') ELSE FALSE END;

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

