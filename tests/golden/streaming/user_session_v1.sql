CREATE TEMPORARY VIEW `user_session_v1_rows` AS
SELECT `user_id`, `watch_time_ms`, `content_id`, `event_time`, `_value`, `_topic`, `_partition`, `_offset`, `_kafka_ts`,
  COALESCE(`event_time` + INTERVAL '30' MINUTE - INTERVAL '0.001' SECOND <= CURRENT_WATERMARK(`event_time`), FALSE) AS `_late`,
  CURRENT_WATERMARK(`event_time`) AS `_watermark`
FROM `fan_interactions_events`;

CREATE TEMPORARY VIEW `user_session_v1_input` AS
SELECT `user_id`, `watch_time_ms`, `content_id`, `event_time`
FROM `user_session_v1_rows`
WHERE NOT `_late`;

INSERT INTO `user_session_v1_late`
SELECT 'user_session' AS `feature_group`, 1 AS `version`,
  `user_id` AS `entity`, `event_time` AS `event_time`,
  `_watermark` AS `watermark`,
  `_topic` AS `source_topic`, `_partition` AS `source_partition`,
  `_offset` AS `source_offset`, `_value` AS `original`
FROM `user_session_v1_rows`
WHERE CASE WHEN `_late` THEN METER_RECORD('late', 'fan.interactions', 'user_session') ELSE FALSE END;

INSERT INTO `user_session_v1_sink`
SELECT
  `user_id` AS `user_id`,
  `window_start` AS `window_start`,
  `window_end` AS `window_end`,
  `session_events_count` AS `session_events_count`,
  `session_watch_ms_sum` AS `session_watch_ms_sum`,
  `session_content_distinct` AS `session_content_distinct`
FROM (
  SELECT `user_id`, `window_start`, `window_end`,
    COUNT(*) AS `session_events_count`,
    SUM(`watch_time_ms`) AS `session_watch_ms_sum`,
    EXACT_DISTINCT(`content_id`) AS `session_content_distinct`
  FROM TABLE(SESSION(TABLE `user_session_v1_input` PARTITION BY `user_id`, DESCRIPTOR(`event_time`), INTERVAL '30' MINUTE))
  GROUP BY `user_id`, `window_start`, `window_end`);

