CREATE TEMPORARY VIEW `user_team_affinity_v1_input` AS
SELECT `user_id` || ':' || `team_id` AS `user_team`, `watch_time_ms`, `content_id`, `event_time`
FROM `fan_interactions_events` CROSS JOIN UNNEST(`team_ids`) AS `_x` (`team_id`);

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
  SELECT `user_team`,
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

