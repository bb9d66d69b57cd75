CREATE TEMPORARY VIEW `user_engagement_1h_v1_rows` AS
SELECT `user_id`, `watch_time_ms`, `content_id`, `sport`, `session_id`, `league`, `device`, `app_surface`, `event_type`, `event_time`, `_value`, `_topic`, `_partition`, `_offset`, `_kafka_ts`,
  COALESCE(TIMESTAMPADD(MINUTE, TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', `event_time`) - MOD(TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', `event_time`), 60) + 60, TIMESTAMP '1970-01-01 00:00:00') - INTERVAL '0.001' SECOND <= CURRENT_WATERMARK(`event_time`), FALSE) AS `_late`,
  CURRENT_WATERMARK(`event_time`) AS `_watermark`
FROM `fan_interactions_events`;

CREATE TEMPORARY VIEW `user_engagement_1h_v1_input` AS
SELECT `user_id`, `watch_time_ms`, `content_id`, `sport`, `session_id`, `league`, `device`, `app_surface`, `event_type`, `event_time`
FROM `user_engagement_1h_v1_rows`
WHERE NOT `_late`;

INSERT INTO `user_engagement_1h_v1_late`
SELECT 'user_engagement_1h' AS `feature_group`, 1 AS `version`,
  `user_id` AS `entity`, `event_time` AS `event_time`,
  `_watermark` AS `watermark`,
  `_topic` AS `source_topic`, `_partition` AS `source_partition`,
  `_offset` AS `source_offset`, `_value` AS `original`
FROM `user_engagement_1h_v1_rows`
WHERE CASE WHEN `_late` THEN METER_RECORD('late', 'fan.interactions', 'user_engagement_1h') ELSE FALSE END;

INSERT INTO `user_engagement_1h_v1_sink`
SELECT
  `user_id` AS `user_id`,
  `window_start` AS `window_start`,
  `window_end` AS `window_end`,
  `user_views_count_1h` AS `user_views_count_1h`,
  `user_plays_count_1h` AS `user_plays_count_1h`,
  `user_completes_count_1h` AS `user_completes_count_1h`,
  CAST(`user_completes_count_1h` AS DOUBLE) / NULLIF(CAST(`user_plays_count_1h` AS DOUBLE), 0) AS `user_completion_rate_1h`,
  `user_watch_ms_sum_1h` AS `user_watch_ms_sum_1h`,
  `user_watch_ms_max_1h` AS `user_watch_ms_max_1h`,
  `user_watch_ms_stddev_1h` AS `user_watch_ms_stddev_1h`,
  `user_content_distinct_1h` AS `user_content_distinct_1h`,
  `user_sports_distinct_1h` AS `user_sports_distinct_1h`,
  `user_sessions_count_1h` AS `user_sessions_count_1h`,
  `user_last_content_ids_1h` AS `user_last_content_ids_1h`,
  `user_top_sports_1h` AS `user_top_sports_1h`,
  `user_top_leagues_1h` AS `user_top_leagues_1h`,
  `user_last_device_1h` AS `user_last_device_1h`,
  `user_first_surface_1h` AS `user_first_surface_1h`
FROM (
  SELECT `user_id`, `window_start`, `window_end`,
    COUNT(*) FILTER (WHERE `event_type` = 'view') AS `user_views_count_1h`,
    COUNT(*) FILTER (WHERE `event_type` = 'play') AS `user_plays_count_1h`,
    COUNT(*) FILTER (WHERE `event_type` = 'complete') AS `user_completes_count_1h`,
    SUM(`watch_time_ms`) AS `user_watch_ms_sum_1h`,
    MAX(`watch_time_ms`) AS `user_watch_ms_max_1h`,
    STDDEV_POP(CAST(`watch_time_ms` AS DOUBLE)) FILTER (WHERE `watch_time_ms` > 0) AS `user_watch_ms_stddev_1h`,
    EXACT_DISTINCT(`content_id`) AS `user_content_distinct_1h`,
    EXACT_DISTINCT(`sport`) AS `user_sports_distinct_1h`,
    EXACT_DISTINCT(`session_id`) AS `user_sessions_count_1h`,
    LAST_N_DISTINCT(`content_id`, `event_time`, 10) AS `user_last_content_ids_1h`,
    TOP_K(`sport`, 3) AS `user_top_sports_1h`,
    TOP_K(`league`, 3) AS `user_top_leagues_1h`,
    LATEST(`device`, `event_time`) AS `user_last_device_1h`,
    EARLIEST(`app_surface`, `event_time`) AS `user_first_surface_1h`
  FROM TABLE(TUMBLE(TABLE `user_engagement_1h_v1_input`, DESCRIPTOR(`event_time`), INTERVAL '1' HOUR))
  GROUP BY `user_id`, `window_start`, `window_end`);

