-- SLA figures per day, week or month for a domain, a state machine or everything.
-- Params: $grain ('day'|'week'|'month'), $start, $end, $d0, $d1, $domain, $state_machine_arn
--   (NULL = all), $thr_ms (latency threshold, NULL = none), $xd/$xm/$xs/$xe (exclusions).
-- `date` (the partition: the UTC start date) gives the bucket: the same value as truncating
-- start_time in UTC, without a time-zone-aware truncation per row.
SELECT date_trunc($grain, date)::TIMESTAMPTZ AS bucket,
       count(*) AS executions,
       count(*) FILTER (is_succeeded) AS succeeded,
       count(*) FILTER (is_succeeded AND redrive_count = 0) AS first_attempt_succeeded,
       succeeded / count(*) AS success_rate,
       first_attempt_succeeded / count(*) AS first_attempt_success_rate,
       quantile_cont(duration_ms, 0.95) AS p95_ms,
       CASE WHEN $thr_ms::BIGINT IS NOT NULL
            THEN count(*) FILTER (duration_ms <= $thr_ms::BIGINT) / count(*) END AS within_threshold_share
FROM sla_executions($executions_glob, $start, $end, $d0, $d1, $domain, $state_machine_arn,
                    $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[])
GROUP BY date_trunc($grain, date)
ORDER BY bucket
