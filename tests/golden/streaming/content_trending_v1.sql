CREATE TEMPORARY VIEW `content_trending_v1_rows` AS
SELECT `content_id`, `user_id`, `watch_time_ms`, `event_type`, `event_time`, `_value`, `_topic`, `_partition`, `_offset`, `_kafka_ts`,
  COALESCE(TIMESTAMPADD(MINUTE, TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', `event_time`) - MOD(TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', `event_time`), 1) + 1, TIMESTAMP '1970-01-01 00:00:00') - INTERVAL '0.001' SECOND <= CURRENT_WATERMARK(`event_time`), FALSE) AS `_late`,
  CURRENT_WATERMARK(`event_time`) AS `_watermark`
FROM `fan_interactions_events`;

CREATE TEMPORARY VIEW `content_trending_v1_input` AS
SELECT `content_id`, `user_id`, `watch_time_ms`, `event_type`, `event_time`
FROM `content_trending_v1_rows`
WHERE NOT `_late`;

INSERT INTO `content_trending_v1_late`
SELECT 'content_trending' AS `feature_group`, 1 AS `version`,
  `content_id` AS `entity`, `event_time` AS `event_time`,
  `_watermark` AS `watermark`,
  `_topic` AS `source_topic`, `_partition` AS `source_partition`,
  `_offset` AS `source_offset`, `_value` AS `original`
FROM `content_trending_v1_rows`
WHERE CASE WHEN `_late` THEN METER_RECORD('late', 'fan.interactions', 'content_trending') ELSE FALSE END;

INSERT INTO `content_trending_v1_sink`
SELECT
  `content_id` AS `content_id`,
  `window_start` AS `window_start`,
  `window_end` AS `window_end`,
  `content_views_count_10m` AS `content_views_count_10m`,
  `content_viewers_approx_distinct_10m` AS `content_viewers_approx_distinct_10m`,
  `_quantiles0`[1] AS `content_watch_ms_p50_10m`,
  `_quantiles0`[2] AS `content_watch_ms_p90_10m`,
  `content_popularity_decay_10m` AS `content_popularity_decay_10m`
FROM (
  SELECT `content_id`, `window_start`, `window_end`,
    COUNT(*) FILTER (WHERE `event_type` = 'view') AS `content_views_count_10m`,
    APPROX_DISTINCT(`user_id`, 12) AS `content_viewers_approx_distinct_10m`,
    DECAY_SUM(1.0, `event_time`, 300000) FILTER (WHERE `event_type` = 'view') AS `content_popularity_decay_10m`,
    APPROX_PERCENTILES(CAST(`watch_time_ms` AS DOUBLE), '0.5,0.9', 200) FILTER (WHERE `watch_time_ms` > 0) AS `_quantiles0`
  FROM TABLE(HOP(TABLE `content_trending_v1_input`, DESCRIPTOR(`event_time`), INTERVAL '1' MINUTE, INTERVAL '10' MINUTE))
  GROUP BY `content_id`, `window_start`, `window_end`);

