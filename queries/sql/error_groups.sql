-- Failures grouped by signature (error + failed state + cause with ids, numbers, ARNs, UUIDs and
-- timestamps masked) for a period, with first/last seen over a look-back before it.
-- Params: $failure_files (see failed_executions: the look-back and the period), $start, $end,
--   $lookback_start, $domain, $state_machine_arn (NULL = all).
WITH failures AS (
    SELECT error, failed_state, cause, start_time, execution_arn, state_machine_arn
    FROM failed_executions($failure_files::VARCHAR[], $lookback_start, $end, $domain,
                           $state_machine_arn)
), patterns AS (
    -- The masking regexes run once per distinct cause: the same cause text recurs across failures.
    SELECT cause, cause_pattern(cause) AS pattern FROM failures GROUP BY cause
), f AS (
    SELECT failures.*, patterns.pattern
    FROM failures JOIN patterns ON failures.cause IS NOT DISTINCT FROM patterns.cause
), g AS (
    SELECT error_signature(error, failed_state, pattern) AS signature,
           any_value(error) AS error, any_value(failed_state) AS failed_state, any_value(pattern) AS cause_pattern,
           count(*) FILTER (start_time >= $start) AS count,
           count(DISTINCT state_machine_arn) FILTER (start_time >= $start) AS machines,
           min(start_time) AS first_seen,
           max(start_time) AS last_seen,
           arg_max(cause, start_time) FILTER (start_time >= $start) AS sample_cause,
           arg_max(execution_arn, start_time) FILTER (start_time >= $start) AS sample_execution_arn,
           list(date_diff('day', $start::TIMESTAMPTZ, start_time)) FILTER (start_time >= $start) AS offsets
    FROM f
    GROUP BY error, failed_state, pattern
)
SELECT signature, error, failed_state, cause_pattern, sample_cause, count, machines, first_seen, last_seen,
       [len(list_filter(offsets, lambda o: o = d)) FOR d IN range(date_diff('day', $start::TIMESTAMPTZ, $end::TIMESTAMPTZ - INTERVAL 1 MICROSECOND) + 1)] AS daily,
       first_seen >= $start AS is_new,
       sample_execution_arn
FROM g
WHERE count > 0
ORDER BY count DESC, signature
