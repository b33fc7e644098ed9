-- SLA counts per domain (or per state machine) for a period: volumes, eventual and first-attempt
-- success, exact latency percentiles and executions within each key's latency threshold.
-- Terminal executions only; executions in a maintenance exclusion are counted in `excluded` only.
-- Params: $start, $end (half-open), $d0, $d1 (partition dates), $domain (NULL = all),
--   $by_machine (group by state machine instead of domain), $thr_keys/$thr_ms (threshold per key, ms),
--   $thr_since (per key: where its own window starts, NULL = $start; so keys with different rolling
--   windows share one read) and $thr_since_d (its date), $thr_default_ms, $xd/$xm/$xs/$xe (exclusion
--   windows), $edge_dates (partition dates holding $d0, $d1, a key's window start or an exclusion).
--
-- Why two reads of disjoint partitions: start_time is the costliest column to decode, and only the
-- edge dates need it. On every other date, every execution is inside each window that includes the
-- date and outside every exclusion, so the date alone decides.
WITH thr AS (
    SELECT unnest($thr_keys::VARCHAR[]) AS key, unnest($thr_ms::BIGINT[]) AS ms,
           unnest($thr_since::TIMESTAMPTZ[]) AS since, unnest($thr_since_d::DATE[]) AS since_d
), e AS (
    SELECT CASE WHEN $by_machine THEN state_machine_arn ELSE domain END AS key, domain,
           CASE WHEN $by_machine THEN state_machine_arn END AS arn,
           CASE WHEN $by_machine THEN state_machine_name END AS name,
           date, NULL::TIMESTAMPTZ AS start_time, is_succeeded, redrive_count, duration_ms, false AS edge,
           false AS is_excluded
    FROM executions($executions_glob)
    WHERE date BETWEEN $d0 AND $d1 AND NOT list_contains($edge_dates::DATE[], date)
      AND ($domain IS NULL OR domain = $domain)
      AND is_terminal
    UNION ALL
    SELECT CASE WHEN $by_machine THEN state_machine_arn ELSE domain END AS key, domain,
           CASE WHEN $by_machine THEN state_machine_arn END AS arn,
           CASE WHEN $by_machine THEN state_machine_name END AS name,
           date, start_time, is_succeeded, redrive_count, duration_ms, true AS edge,
           excluded(domain, state_machine_arn, state_machine_name, start_time,
                    $xd::VARCHAR[], $xm::VARCHAR[], $xs::TIMESTAMPTZ[], $xe::TIMESTAMPTZ[]) AS is_excluded
    FROM executions($executions_glob)
    WHERE date BETWEEN $d0 AND $d1 AND list_contains($edge_dates::DATE[], date)
      AND start_time >= $start AND start_time < $end
      AND ($domain IS NULL OR domain = $domain)
      AND is_terminal
), per AS (
    -- Grouped by key and exclusion: plain counts (no per-aggregate filters) and one exact quantile
    -- state per group, gathered and sorted once for the three levels; excluded groups are dropped below.
    SELECT e.key, is_excluded, any_value(domain) AS domain, any_value(arn) AS arn, any_value(name) AS name,
           count(*) AS n,
           count_if(is_succeeded) AS ok,
           count_if(is_succeeded AND redrive_count = 0) AS ok_first,
           count_if(redrive_count > 0) AS redriven,
           count_if(duration_ms <= coalesce(thr.ms, $thr_default_ms)) AS within,
           quantile_cont(duration_ms, [0.50, 0.95, 0.99]) AS q
    FROM e LEFT JOIN thr ON thr.key = e.key
    WHERE CASE WHEN edge THEN e.start_time >= coalesce(thr.since, $start)
               ELSE e.date > coalesce(thr.since_d, $d0) END
    GROUP BY e.key, is_excluded
)
SELECT key,
       any_value(domain) AS domain,
       any_value(arn) AS state_machine_arn,
       any_value(name) AS state_machine_name,
       coalesce(sum(n) FILTER (NOT is_excluded), 0)::BIGINT AS executions,
       coalesce(sum(ok) FILTER (NOT is_excluded), 0)::BIGINT AS succeeded,
       executions - succeeded AS failed,
       coalesce(sum(ok_first) FILTER (NOT is_excluded), 0)::BIGINT AS first_attempt_succeeded,
       coalesce(sum(redriven) FILTER (NOT is_excluded), 0)::BIGINT AS redriven,
       succeeded / nullif(executions, 0) AS success_rate,
       first_attempt_succeeded / nullif(executions, 0) AS first_attempt_success_rate,
       any_value(q) FILTER (NOT is_excluded) AS qs,
       qs[1] AS p50_ms, qs[2] AS p95_ms, qs[3] AS p99_ms,
       coalesce(sum(within) FILTER (NOT is_excluded), 0)::BIGINT AS within_threshold,
       within_threshold / nullif(executions, 0) AS within_threshold_share,
       coalesce(sum(n) FILTER (is_excluded), 0)::BIGINT AS excluded
FROM per
GROUP BY key
ORDER BY key
