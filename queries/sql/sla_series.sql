-- SLA figures per day, week or month for a domain, a state machine or everything.
-- Params: $grain ('day'|'week'|'month'), $whole_files, $edge_files (see sla_rows), $start,
--   $end, $domain, $state_machine_arn (NULL = all), $thr_ms (latency threshold, NULL = none),
--   $xd/$xm/$xs/$xe (exclusions).
-- `date` (the partition: the UTC start date) gives the bucket: the same value as truncating
-- start_time in UTC, without a time-zone-aware truncation per row.
SELECT date_trunc($grain, date)::TIMESTAMPTZ AS bucket,
       count(*) AS executions,
       count(*) FILTER (r.succeeded) AS succeeded,
       count(*) FILTER (r.succeeded AND NOT r.redriven) AS first_attempt_succeeded,
       count(*) FILTER (r.succeeded) / count(*) AS success_rate,
       count(*) FILTER (r.succeeded AND NOT r.redriven) / count(*) AS first_attempt_success_rate,
       quantile_cont(duration_ms, 0.95) AS p95_ms,
       CASE WHEN $thr_ms::BIGINT IS NOT NULL
            THEN count(*) FILTER (duration_ms <= $thr_ms::BIGINT) / count(*) END AS within_threshold_share
FROM sla_rows($whole_files::VARCHAR[], $edge_files::VARCHAR[], $start, $end, $domain,
              false, []::VARCHAR[], []::TIMESTAMPTZ[], $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[]) r
WHERE NOT is_excluded AND ($state_machine_arn IS NULL OR state_machine_arn = $state_machine_arn)
GROUP BY date_trunc($grain, date)
ORDER BY bucket
