CREATE TEMPORARY VIEW `content_trending_v1_input` AS
SELECT `content_id`, `user_id`, `watch_time_ms`, `event_type`, `event_time`
FROM `fan_interactions_events`;

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

