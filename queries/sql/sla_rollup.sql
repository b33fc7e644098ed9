-- SLA counts per domain (or per state machine) for a period: volumes, eventual and first-attempt
-- success, exact latency percentiles and executions within each key's latency threshold.
-- Terminal executions only; executions in a maintenance exclusion are counted in `excluded` only.
-- Params: $start, $end (half-open), $d0, $d1 (partition dates), $domain (NULL = all),
--   $by_machine (group by state machine instead of domain), $thr_keys/$thr_ms (threshold per key, ms),
--   $thr_since (per key: where its own window starts, NULL = $start; so keys with different rolling
--   windows share one read), $thr_default_ms, $xd/$xm/$xs/$xe (exclusion windows).
WITH e AS (
    SELECT domain, state_machine_arn, state_machine_name, start_time, is_succeeded, redrive_count, duration_ms,
           CASE WHEN $by_machine THEN state_machine_arn ELSE domain END AS key,
           excluded(domain, state_machine_arn, state_machine_name, start_time,
                    $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[]) AS is_excluded
    FROM executions($executions_glob)
    WHERE date BETWEEN $d0 AND $d1
      AND start_time >= $start AND start_time < $end
      AND ($domain IS NULL OR domain = $domain)
      AND is_terminal
), thr AS (
    SELECT unnest($thr_keys::VARCHAR[]) AS key, unnest($thr_ms::BIGINT[]) AS ms,
           unnest($thr_since::TIMESTAMPTZ[]) AS since
), agg AS (
SELECT e.key,
       any_value(e.domain) AS domain,
       CASE WHEN $by_machine THEN any_value(e.state_machine_arn) END AS state_machine_arn,
       CASE WHEN $by_machine THEN any_value(e.state_machine_name) END AS state_machine_name,
       count(*) FILTER (NOT is_excluded) AS executions,
       count(*) FILTER (NOT is_excluded AND is_succeeded) AS succeeded,
       count(*) FILTER (NOT is_excluded AND NOT is_succeeded) AS failed,
       count(*) FILTER (NOT is_excluded AND is_succeeded AND redrive_count = 0) AS first_attempt_succeeded,
       count(*) FILTER (NOT is_excluded AND redrive_count > 0) AS redriven,
       succeeded / nullif(executions, 0) AS success_rate,
       first_attempt_succeeded / nullif(executions, 0) AS first_attempt_success_rate,
       -- One exact quantile state for the three levels: the durations are gathered and sorted once.
       quantile_cont(duration_ms, [0.50, 0.95, 0.99]) FILTER (NOT is_excluded) AS q,
       q[1] AS p50_ms, q[2] AS p95_ms, q[3] AS p99_ms,
       count(*) FILTER (NOT is_excluded AND duration_ms <= coalesce(thr.ms, $thr_default_ms)) AS within_threshold,
       within_threshold / nullif(executions, 0) AS within_threshold_share,
       count(*) FILTER (is_excluded) AS excluded
FROM e LEFT JOIN thr ON thr.key = e.key
WHERE e.start_time >= coalesce(thr.since, $start)
GROUP BY e.key
)
SELECT * EXCLUDE (q) FROM agg
ORDER BY key
