CREATE TEMPORARY VIEW `user_team_affinity_v1_rows` AS
SELECT `user_id` || ':' || `team_id` AS `user_team`, `watch_time_ms`, `content_id`, `event_time`, `_value`, `_topic`, `_partition`, `_offset`, `_kafka_ts`,
  COALESCE(TIMESTAMPADD(MINUTE, TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', `event_time`) - MOD(TIMESTAMPDIFF(MINUTE, TIMESTAMP '1970-01-01 00:00:00', `event_time`), 1) + 1, TIMESTAMP '1970-01-01 00:00:00') - INTERVAL '0.001' SECOND <= CURRENT_WATERMARK(`event_time`), FALSE) AS `_late`,
  CURRENT_WATERMARK(`event_time`) AS `_watermark`
FROM `fan_interactions_events` CROSS JOIN UNNEST(`team_ids`) AS `_x` (`team_id`);

CREATE TEMPORARY VIEW `user_team_affinity_v1_input` AS
SELECT `user_team`, `watch_time_ms`, `content_id`, `event_time`
FROM `user_team_affinity_v1_rows`
WHERE NOT `_late`;

INSERT INTO `user_team_affinity_v1_late`
SELECT 'user_team_affinity' AS `feature_group`, 1 AS `version`,
  `user_team` AS `entity`, `event_time` AS `event_time`,
  `_watermark` AS `watermark`,
  `_topic` AS `source_topic`, `_partition` AS `source_partition`,
  `_offset` AS `source_offset`, `_value` AS `original`
FROM `user_team_affinity_v1_rows`
WHERE CASE WHEN `_late` THEN METER_RECORD('late', 'fan.interactions', 'user_team_affinity') ELSE FALSE END;

INSERT INTO `user_team_affinity_v1_sink`
SELECT
  `user_team` AS `user_team`,
  `window_start` AS `window_start`,
  `window_end` AS `window_end`,
  `user_team_affinity_decay` AS `user_team_affinity_decay`,
  `user_team_interactions_count` AS `user_team_interactions_count`,
  `user_team_watch_ms_sum` AS `user_team_watch_ms_sum`,
  `user_team_last_content` AS `user_team_last_content`
FROM (
  SELECT /*+ STATE_TTL('_tiles' = '90 d') */ `user_team`,
    MIN(`_first`) AS `window_start`,
    MAX(`_last`) AS `window_end`,
    DECAY_SUM(`user_team_affinity_decay`, `user_team_affinity_decay__t`, 604800000) AS `user_team_affinity_decay`,
    SUM(`user_team_interactions_count`) AS `user_team_interactions_count`,
    SUM(`user_team_watch_ms_sum`) AS `user_team_watch_ms_sum`,
    LATEST(`user_team_last_content`, `user_team_last_content__t`) AS `user_team_last_content`
  FROM (
    SELECT `user_team`,
      MIN(`event_time`) AS `_first`,
      MAX(`event_time`) AS `_last`,
      DECAY_SUM(1.0, `event_time`, 604800000) AS `user_team_affinity_decay`,
      MAX(`event_time`) AS `user_team_affinity_decay__t`,
      COUNT(*) AS `user_team_interactions_count`,
      SUM(`watch_time_ms`) AS `user_team_watch_ms_sum`,
      LATEST(`content_id`, `event_time`) AS `user_team_last_content`,
      MAX(`event_time`) AS `user_team_last_content__t`
    FROM TABLE(TUMBLE(TABLE `user_team_affinity_v1_input`, DESCRIPTOR(`event_time`), INTERVAL '1' MINUTE))
    GROUP BY `user_team`, `window_start`, `window_end`) AS `_tiles`
  GROUP BY `user_team`);

