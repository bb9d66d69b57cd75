CREATE TEMPORARY VIEW `fan_interactions_checked` AS
SELECT *,
  CASE
    WHEN `_error` IS NOT NULL THEN `_error`
    WHEN `event_id` = '' THEN 'missing:event_id'
    WHEN `user_id` = '' THEN 'missing:user_id'
    WHEN `content_id` = '' THEN 'missing:content_id'
    WHEN `session_id` = '' THEN 'missing:session_id'
    WHEN `watch_time_ms` < 0 THEN 'negative:watch_time_ms'
    WHEN `position_ms` < 0 THEN 'negative:position_ms'
    WHEN `event_type` NOT IN ('view', 'play', 'pause', 'resume', 'complete', 'click', 'like', 'share') THEN 'invalid:event_type'
    WHEN `content_type` NOT IN ('video', 'clip', 'article', 'live_stream') THEN 'invalid:content_type'
    WHEN `device` NOT IN ('ios', 'android', 'web', 'tv', 'console') THEN 'invalid:device'
    WHEN `app_surface` NOT IN ('home', 'search', 'game_center', 'team_page', 'player', 'notification') THEN 'invalid:app_surface'
    WHEN `_claimed_time` > CAST(`_kafka_ts` AS TIMESTAMP(3)) + INTERVAL '60' MINUTE THEN 'future_event_time'
  END AS `_reject`
FROM `fan_interactions_decoded`;

INSERT INTO `fan_interactions_dlq`
SELECT `_value` AS `original`, `_reject` AS `reason`,
  `_topic` AS `source_topic`, `_partition` AS `source_partition`,
  `_offset` AS `source_offset`,
  CAST(`_kafka_ts` AS TIMESTAMP(3)) AS `source_timestamp`
FROM `fan_interactions_checked`
WHERE CASE WHEN `_reject` IS NOT NULL THEN METER_RECORD('dead_letter', 'fan.interactions', `_reject`) ELSE FALSE END;

CREATE TEMPORARY VIEW `fan_interactions_events` AS
SELECT `event_id`, `user_id`, `seq`, `session_id`, `content_id`, `content_type`, `sport`, `league`, `team_ids`, `game_id`, `event_type`, `watch_time_ms`, `position_ms`, `device`, `app_surface`, `event_time`, `_value`, `_topic`, `_partition`, `_offset`, `_kafka_ts`
FROM (
  SELECT *, ROW_NUMBER() OVER (
    PARTITION BY `event_id` ORDER BY `_proc_time`) AS `_rn`
  FROM `fan_interactions_checked`
  WHERE CASE WHEN `_reject` IS NULL THEN METER_RECORD('read', 'fan.interactions', `event_type`) ELSE FALSE END)
WHERE `_rn` = 1;

